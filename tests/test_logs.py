"""Separate JSON-lines logs, each switchable, with secrets redacted."""

import json
from pathlib import Path

from affsrv.logs import REDACTED, redact
from tests.helpers import add_affiliate, add_product, api, log_records


def test_each_refusal_goes_to_its_own_log_once(app, client, api_key):
    code = add_affiliate(app)
    api(client, api_key, code, commission={"product": 99, "saletotal": "1", "commtotal": "1"})
    api(client, api_key, code, referrer={"product": 98})
    client.get("/r/nobody")
    commission, referral, general = (log_records(app, n) for n in ("commission", "referral",
                                                              "general"))
    assert [r["reason"] for r in commission] == ["unknown product 99"]
    assert [r.get("reason") for r in referral] == ["unknown product 98",
                                                   "unknown affiliate code"]
    assert general == []
    assert all(r["level"] == "warning" and r["timestamp"].endswith("Z") for r in commission)


def test_api_log_is_off_by_default_and_redacts_when_on(make_app, api_key):
    app = make_app()
    code = add_affiliate(app)
    api(app.test_client(), api_key, code, data={"op": "info"})
    assert log_records(app, "api") == []

    app = make_app(logs={"api": True})
    api(app.test_client(), api_key, code, data={"op": "info"})
    (record,) = log_records(app, "api")
    assert record["event"] == "api call" and record["status"] == 200
    assert record["request"]["apikey"] == REDACTED and record["request"]["affiliate"] == code
    assert api_key not in json.dumps(record)


def test_a_disabled_log_writes_nothing(make_app, api_key):
    app = make_app(logs={"commission": False})
    code = add_affiliate(app)
    pid = add_product(app)
    r = api(app.test_client(), api_key, code,
            commission={"product": pid, "saletotal": "$1"})
    assert r.status_code == 400
    assert not (Path(app.config["AFFSRV"]["logs"]["dir"]) / "commission.log").exists()


def test_unexpected_error_is_logged_to_general_and_answered_in_api_format(app, client):
    @app.get("/boom")  # a route that fails the way a bug would
    def boom():
        raise RuntimeError("kaboom")

    r = client.get("/boom")
    assert r.status_code == 500 and r.json["status"] == "error"
    (record,) = log_records(app, "general")
    assert record["event"] == "unhandled error" and "kaboom" in record["exception"]


def test_redact_nested_secrets():
    assert redact({"apikey": "k", "a": [{"password": "p", "x": 1}], "secret_key": "s"}) == {
        "apikey": REDACTED, "a": [{"password": REDACTED, "x": 1}], "secret_key": REDACTED}
