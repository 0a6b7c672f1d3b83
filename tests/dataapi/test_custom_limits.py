"""`custom` is bounded (depth and size) and refused before anything is written; the API log can
never turn a committed call into an error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from affsrv.commissions.models import Commission
from affsrv.dataapi.schemas import MAX_CUSTOM_CHARS, MAX_CUSTOM_DEPTH
from affsrv.logs import MAX_LOG_DEPTH, TOO_DEEP
from affsrv.notifications.models import OutboxMessage
from tests.helpers import add_affiliate, add_product, api, count_rows, log_records

MAIL = {"enabled": True, "host": "127.0.0.1", "port": 25, "admin": "boss@shop.example",
        "from": "affsrv@shop.example"}


@pytest.fixture
def shop(make_app, api_key):
    """Commissions count at once, e-mails are queued, every API call is logged."""
    app = make_app(commissions={"require_approval": False}, mail=MAIL, logs={"api": True})
    code = add_affiliate(app, email="annie@aff.example")
    return app, app.test_client(), api_key, code, add_product(app)


def _nested(levels: int) -> object:
    """``levels`` objects/arrays one inside the other, built without recursion."""
    value: object = "bottom"
    for n in range(levels):
        value = [value] if n % 2 else {"k": value}
    return value


def _sale(pid: int, ref: str = "ORD-1") -> dict:
    return {"product": pid, "saletotal": "80.00", "commtotal": "8.00", "ref": ref}


@pytest.mark.parametrize("levels", [MAX_CUSTOM_DEPTH, 900])
def test_custom_nested_too_deep_is_a_400_and_writes_nothing(shop, levels):
    app, client, key, code, pid = shop
    # custom itself is the first level: this nests one more than allowed.
    custom = {"deep": _nested(levels)}
    r = api(client, key, code, commission=_sale(pid), custom=custom)
    assert r.status_code == 400
    assert r.json == {"status": "error", "message": (
        f"custom: must not nest objects or arrays more than {MAX_CUSTOM_DEPTH} levels deep")}
    assert count_rows(app, Commission) == 0
    assert count_rows(app, OutboxMessage) == 0  # no e-mail queued either
    # The refusal is logged, the deep part cut short.
    [line] = [rec for rec in log_records(app, "api") if rec["event"] == "api call"]
    assert line["status"] == 400


def test_custom_at_the_depth_limit_is_recorded(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission=_sale(pid),
            custom={"deep": _nested(MAX_CUSTOM_DEPTH - 1)})
    assert r.status_code == 200, r.json
    assert count_rows(app, Commission) == 1


def test_custom_over_the_size_limit_is_a_400_and_writes_nothing(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission=_sale(pid),
            custom={"a": "x" * (MAX_CUSTOM_CHARS - 7)})  # {"a":"..."} is 8 characters more
    assert r.status_code == 400
    assert r.json["message"] == (
        f"custom: must be at most {MAX_CUSTOM_CHARS} characters as JSON "
        f"(got {MAX_CUSTOM_CHARS + 1})")
    assert count_rows(app, Commission) == 0
    assert count_rows(app, OutboxMessage) == 0
    r = api(client, key, code, commission=_sale(pid),
            custom={"a": "x" * (MAX_CUSTOM_CHARS - 8)})  # exactly the limit
    assert r.status_code == 200, r.json


def test_a_body_nested_100000_deep_is_a_clean_400(shop):
    app, client, key, code, pid = shop
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    head = json.dumps({"apikey": key, "affiliate": code, "commission": _sale(pid)})[:-1]
    raw = (head + ', "custom": {"d": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    r = client.post("/api", data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.json == {"status": "error",
                      "message": "malformed JSON: send a JSON object as the request body"}
    assert count_rows(app, Commission) == 0


def test_a_deep_unknown_key_is_logged_cut_short_and_the_call_answers_normally(shop):
    # Unknown keys are ignored (existing clients send extras), so a deep one reaches the log:
    # its redaction must not fail the committed call (it answered 500, and a retry without
    # ref makes a duplicate).
    app, client, key, code, pid = shop
    r = api(client, key, code, commission=_sale(pid), extra=_nested(900))
    assert r.status_code == 200, r.json
    assert r.json["duplicate"] == "no"
    assert count_rows(app, Commission) == 1
    [line] = log_records(app, "api")
    assert line["status"] == 200
    value, depth = line["request"]["extra"], 2  # the event is 0, request 1, extra 2
    while value != TOO_DEEP:
        value = value["k"] if isinstance(value, dict) else value[0]
        depth += 1
    assert depth == MAX_LOG_DEPTH


def test_an_unwritable_log_file_does_not_fail_the_call_and_is_reported_once(shop, capsys):
    app, client, key, code, pid = shop
    assert api(client, key, code, data={"op": "info"}).status_code == 200
    log = Path(app.config["AFFSRV"]["logs"]["dir"]) / "api.log"
    assert log.exists()
    # The file is replaced by a folder (as a wrong logrotate rule or a full disk would stop
    # writes): the logger's reopen fails on every record.
    log.unlink()
    log.mkdir()
    try:
        for n in range(2):
            r = api(client, key, code, commission=_sale(pid, ref=f"ORD-{n}"))
            assert r.status_code == 200, r.json
            assert r.json["duplicate"] == "no"
    finally:
        shutil.rmtree(log)
    assert count_rows(app, Commission) == 2
    reports = [line for line in capsys.readouterr().err.splitlines() if "affsrv.api" in line]
    assert len(reports) == 1
    assert "could not be written and was dropped" in reports[0]
