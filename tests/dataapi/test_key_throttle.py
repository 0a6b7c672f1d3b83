"""Wrong API keys are throttled per client address: 429 with Retry-After in the JSON API's
format, even for the right key from that address, until the window passes; logged in summary."""

from __future__ import annotations

from tests.helpers import add_affiliate, api, log_records

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}


def _call(client, key, code, environ=None):
    return client.post("/api", json={"apikey": key, "affiliate": code, "data": {"op": "info"}},
                       environ_base=environ or ATTACKER)


def test_wrong_keys_are_throttled_then_even_the_right_key(make_app, limit_storage):
    app = make_app(limits={**limit_storage, "api_key_failures_per_address": "10 per minute"})
    from affsrv.apikeys.services import create_api_key

    with app.app_context():
        key = create_api_key("tests")[1]
    code = add_affiliate(app)
    client = app.test_client()

    answers = [_call(client, f"wrong-{n}", code) for n in range(1000)]
    assert [a.status_code for a in answers[:10]] == [403] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    throttled = answers[-1]
    assert throttled.json["status"] == "error" and "too many" in throttled.json["message"]
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # The right key from that address waits too (/index.php is the same endpoint) ...
    assert _call(client, key, code).status_code == 429
    call = {"apikey": key, "affiliate": code, "data": {"op": "info"}}
    assert client.post("/index.php", json=call, environ_base=ATTACKER).status_code == 429
    # ... while it works from another address.
    other = _call(client, key, code, {"REMOTE_ADDR": "198.51.100.20"})
    assert other.status_code == 200 and other.json["status"] == "ok"

    # 1,000 wrong keys: the first logged, then one line when throttling started.
    lines = log_records(app, "general") + log_records(app, "commission") + log_records(
        app, "referral")
    assert len(lines) == 2, lines
    assert lines[0]["event"] == "api call refused" and lines[0]["reason"] == "invalid apikey"
    assert lines[1]["event"] == "throttling failed attempts"


def test_other_refusals_and_successes_do_not_count(make_app, limit_storage, api_key):
    app = make_app(limits={**limit_storage, "api_key_failures_per_address": "3 per minute"})
    code = add_affiliate(app)
    client = app.test_client()
    for _ in range(10):
        assert api(client, api_key, code, data={"op": "info"}).status_code == 200
        # A malformed call with the right key is a 400, not a wrong key.
        assert api(client, api_key, code, data={"op": "nonsense"}).status_code == 400
    assert api(client, api_key, code, data={"op": "info"}).status_code == 200


def test_ipv6_neighbours_share_their_64(make_app, limit_storage, api_key):
    """One host holds a whole /64: its addresses share one count."""
    app = make_app(limits={**limit_storage, "api_key_failures_per_address": "3 per minute"})
    code = add_affiliate(app)
    client = app.test_client()
    statuses = [_call(client, "wrong", code, {"REMOTE_ADDR": f"2001:db8:1:2::{n:x}"}).status_code
                for n in range(1, 6)]
    assert statuses == [403, 403, 403, 429, 429]
    assert _call(client, api_key, code, {"REMOTE_ADDR": "2001:db8:1:3::1"}).status_code == 200
    # An IPv4 address written as IPv4-mapped IPv6 is the same client.
    statuses = [_call(client, "wrong", code, {"REMOTE_ADDR": address}).status_code
                for address in ["203.0.113.50", "::ffff:203.0.113.50", "203.0.113.50",
                                "::ffff:cb00:7132"]]
    assert statuses == [403, 403, 403, 429]
