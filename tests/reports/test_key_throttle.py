"""Wrong reporting keys are throttled per client address, as every other key is: 429 with
Retry-After in the reports' JSON format, even for the right key from that address."""

from __future__ import annotations

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}


def _sales(client, key, environ=None):
    return client.get("/reports/v1/sales", query_string={"by": "country"},
                      headers={"Authorization": f"Bearer {key}"},
                      environ_base=environ or ATTACKER)


def test_wrong_reporting_keys_are_throttled_then_even_the_right_key(make_app, limit_storage):
    app = make_app(limits={**limit_storage, "report_key_failures_per_address": "5 per minute"})
    from affsrv.reports.keys import create_report_key

    with app.app_context():
        key = create_report_key("tests")[1]
    client = app.test_client()
    answers = [_sales(client, f"wrong-{n}") for n in range(30)]
    assert [a.status_code for a in answers[:5]] == [403] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    throttled = answers[-1]
    assert throttled.json["status"] == "error" and "too many" in throttled.json["message"]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert _sales(client, key).status_code == 429
    assert _sales(client, key, {"REMOTE_ADDR": "198.51.100.21"}).status_code == 200


def test_right_keys_never_count(make_app, limit_storage):
    app = make_app(limits={**limit_storage, "report_key_failures_per_address": "2 per minute"})
    from affsrv.reports.keys import create_report_key

    with app.app_context():
        key = create_report_key("tests")[1]
    client = app.test_client()
    assert {_sales(client, key).status_code for _ in range(10)} == {200}
