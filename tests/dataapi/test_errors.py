"""Every refusal: the error format, a 4xx status, the right log, and nothing written."""

import json
from pathlib import Path

import pytest

from affsrv.commissions.models import Commission
from affsrv.tracking.models import Click
from tests.helpers import add_affiliate, add_product, count_rows


@pytest.fixture
def setup(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    code = add_affiliate(app, ip="203.0.113.50")
    pid = add_product(app)
    return app, api_key, code, pid


def _commission(**fields):
    return {"commission": {"product": "{pid}", "saletotal": "9.99", "commtotal": "1.00",
                           **fields}}


# (body builder, status, message fragment, log). Placeholders {key} {code} {pid} are filled in.
CASES = {
    "missing apikey": ({"affiliate": "{code}", "data": {"op": "info"}}, 403,
                       "missing apikey", "general"),
    "wrong apikey": ({"apikey": "affsrv_wrong", "affiliate": "{code}",
                      "data": {"op": "info"}}, 403, "invalid apikey", "general"),
    "apikey not a string": ({"apikey": 12345, "affiliate": "{code}",
                             "data": {"op": "info"}}, 403, "missing apikey", "general"),
    "unknown affiliate": ({"affiliate": "ghost", "data": {"op": "info"}}, 404,
                          "unknown affiliate code 'ghost'", "general"),
    "missing affiliate": ({"data": {"op": "info"}}, 400, "affiliate:", "general"),
    "unknown op": ({"affiliate": "{code}", "data": {"op": "totals"}}, 400,
                   "unknown op 'totals'", "general"),
    "missing op": ({"affiliate": "{code}", "data": {}}, 400, "data.op:", "general"),
    "no call": ({"affiliate": "{code}"}, 400, "send exactly one of data, referrer or commission",
                "general"),
    "two calls": ({"affiliate": "{code}", "data": {"op": "info"},
                   "referrer": {"url": "https://x.example"}}, 400, "got data, referrer",
                  "referral"),
    "data not an object": ({"affiliate": "{code}", "data": "info"}, 400, "data:", "general"),
    "unknown product filter": ({"affiliate": "{code}", "data": {"op": "commissions",
                                                                "product": "999"}},
                               404, "unknown product 999", "general"),
    "product filter not a number": ({"affiliate": "{code}", "data": {"op": "referrals",
                                                                     "product": "four"}},
                                    400, "data.product: must be an id number", "general"),
    "saletotal with currency symbol": ({"affiliate": "{code}", **_commission(saletotal="$9.99")},
                                       400, "commission.saletotal: must be a plain decimal",
                                       "commission"),
    "saletotal with comma": ({"affiliate": "{code}", **_commission(saletotal="1,245.76")},
                             400, "commission.saletotal: must be a plain decimal",
                             "commission"),
    "currency with a trailing newline": ({"affiliate": "{code}",
                                          **_commission(currency="USD\n")},
                                         400, "commission.currency", "commission"),
    "saletotal in other digits": ({"affiliate": "{code}",
                                   **_commission(saletotal="\u0661\u0662.\u0663\u0664")},
                                  400, "commission.saletotal: must be a plain decimal",
                                  "commission"),
    "saletotal three decimals": ({"affiliate": "{code}", **_commission(saletotal="9.999")},
                                 400, "commission.saletotal", "commission"),
    "saletotal negative": ({"affiliate": "{code}", **_commission(saletotal="-5.00")},
                           400, "commission.saletotal", "commission"),
    "saletotal zero": ({"affiliate": "{code}", **_commission(saletotal="0")},
                       400, "must be more than zero", "commission"),
    "saletotal absurd": ({"affiliate": "{code}", **_commission(saletotal="99999999.00")},
                         400, "must not exceed 1000000.00", "commission"),
    "saletotal boolean": ({"affiliate": "{code}", **_commission(saletotal=True)},
                          400, "commission.saletotal", "commission"),
    "saletotal object": ({"affiliate": "{code}", **_commission(saletotal={"v": 1})},
                         400, "commission.saletotal", "commission"),
    "saletotal missing": ({"affiliate": "{code}", "commission": {"product": "{pid}"}},
                          400, "commission.saletotal: is required", "commission"),
    "commtotal negative": ({"affiliate": "{code}", **_commission(commtotal="-1")},
                           400, "commission.commtotal", "commission"),
    "commtotal above sale": ({"affiliate": "{code}", **_commission(commtotal="20.00")},
                             400, "is more than commission.saletotal", "commission"),
    "commtotal missing": ({"affiliate": "{code}", "commission": {"product": "{pid}",
                                                                 "saletotal": "5"}},
                          400, "commission.commtotal is required", "commission"),
    "unknown product": ({"affiliate": "{code}", **_commission(product="424242")}, 404,
                        "unknown product 424242", "commission"),
    "product not a number": ({"affiliate": "{code}", **_commission(product=[1])}, 400,
                             "commission.product", "commission"),
    "bad commission ip": ({"affiliate": "{code}", **_commission(ip="999.1.1.1")}, 400,
                          "commission.ip: must be an IP address", "commission"),
    "self-referral commission": ({"affiliate": "{code}", **_commission(ip="203.0.113.50")},
                                 403, "self-referral refused", "commission"),
    "refund without ref": ({"affiliate": "{code}", **_commission(type="refund")}, 400,
                           "ref: is required for a refund", "commission"),
    "unknown commission type": ({"affiliate": "{code}", **_commission(type="gift")}, 400,
                                "commission.type: must be sale, refund or chargeback",
                                "commission"),
    "self-referral click": ({"affiliate": "{code}", "referrer": {"ip": "203.0.113.50",
                                                                 "url": "https://a.example"}},
                            403, "self-referral refused", "referral"),
    "referral unknown product": ({"affiliate": "{code}", "referrer": {"product": 77}}, 404,
                                 "unknown product 77", "referral"),
    "referral url not a string": ({"affiliate": "{code}", "referrer": {"url": 5}}, 400,
                                  "referrer.url", "referral"),
    "emails not yes/no": ({"affiliate": "{code}", **_commission(),
                           "emails": {"admin": "maybe"}}, 400, 'emails.admin: must be "yes"',
                          "commission"),
    # No database stores a NUL in text (PostgreSQL refuses it): refused anywhere in the body.
    "NUL in the affiliate code": ({"affiliate": "\x00", "data": {"op": "info"}}, 400,
                                  "must not contain NUL", "general"),
    "NUL in a referring url": ({"affiliate": "{code}", "referrer": {"url": "https://a\x00"}},
                               400, "must not contain NUL", "referral"),
    "NUL in commission notes": ({"affiliate": "{code}", **_commission(notes="a\x00b")}, 400,
                                "must not contain NUL", "commission"),
    "NUL in a custom key": ({"affiliate": "{code}", **_commission(),
                             "custom": {"k\x00": "v"}}, 400, "must not contain NUL",
                            "commission"),
    # Half of a UTF-16 pair, escaped: no database can store it as text.
    "unpaired surrogate in the affiliate code": ({"affiliate": "\ud800",
                                                  "data": {"op": "info"}}, 400,
                                                 "must be valid Unicode", "general"),
    "unpaired surrogate in commission notes": ({"affiliate": "{code}",
                                                **_commission(notes="a\udc00b")}, 400,
                                               "must be valid Unicode", "commission"),
    "unpaired surrogate in a custom key": ({"affiliate": "{code}", **_commission(),
                                            "custom": {"k\udbff": "v"}}, 400,
                                           "must be valid Unicode", "commission"),
    # str.isdigit() is true of "²", which int() refuses.
    "product filter a superscript digit": ({"affiliate": "{code}",
                                            "data": {"op": "referrals", "product": "\u00b2"}},
                                           400, "data.product: must be an id number", "general"),
    "referral product a superscript digit": ({"affiliate": "{code}",
                                              "referrer": {"product": "\u00b2"}},
                                             400, "referrer.product: must be an id number",
                                             "referral"),
}


def _fill(value, key, code, pid):
    if isinstance(value, dict):
        return {k: _fill(v, key, code, pid) for k, v in value.items()}
    if isinstance(value, str):
        filled = value.replace("{code}", code).replace("{pid}", str(pid))
        return int(filled) if value == "{pid}" else filled
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_refusal(setup, name):
    app, key, code, pid = setup
    body, status, fragment, log = CASES[name]
    body = _fill(body, key, code, pid)
    if name not in {"missing apikey", "wrong apikey", "apikey not a string"}:
        body = {"apikey": key, **body}
    before = (count_rows(app, Commission), count_rows(app, Click))
    r = app.test_client().post("/api", json=body)
    assert r.status_code == status, r.json
    assert r.json["status"] == "error" and set(r.json) == {"status", "message"}
    assert fragment in r.json["message"]
    assert (count_rows(app, Commission), count_rows(app, Click)) == before
    text = (Path(app.config["AFFSRV"]["logs"]["dir"]) / f"{log}.log").read_text("utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    assert records[-1]["event"] == "api call refused"
    assert fragment in records[-1]["reason"]
    assert key not in text


@pytest.mark.parametrize("raw, fragment", [
    (b"{not json", "malformed JSON"),
    (b"", "malformed JSON"),
    (b"[1, 2]", "body must be a JSON object"),
    (b'"text"', "body must be a JSON object"),
    (b'{"apikey": NaN}', "malformed JSON"),
    (b"\xff\xfe\x00", "malformed JSON"),
    (b"[" * 100000 + b"]" * 100000, "request body too large"),
])
def test_malformed_bodies(setup, raw, fragment):
    app, *_ = setup
    r = app.test_client().post("/api", data=raw, content_type="application/json")
    assert 400 <= r.status_code < 500
    assert r.json["status"] == "error" and fragment in r.json["message"]


@pytest.mark.parametrize("call, fragment", [
    # JSON numbers past decimal's exponent limit (a Decimal holds them; arithmetic on them
    # overflows): refused by the field, not a 500.
    ('"commission": {"product": {pid}, "saletotal": 1E+1000000, "commtotal": 1}',
     "commission.saletotal: must be a plain decimal"),
    ('"commission": {"product": {pid}, "saletotal": 5, "commtotal": -1E+999999999}',
     "commission.commtotal: must be a plain decimal"),
    ('"data": {"op": "commissions", "product": 1E+1000000}', "data.product: must be an id"),
    ('"referrer": {"product": 4E+999999999}', "referrer.product: must be an id"),
])
def test_numbers_past_decimals_limits_are_a_clean_400(setup, call, fragment):
    app, key, code, pid = setup
    call = call.replace("{pid}", str(pid))
    raw = f'{{"apikey": "{key}", "affiliate": "{code}", {call}}}'
    r = app.test_client().post("/api", data=raw, content_type="application/json")
    assert r.status_code == 400 and fragment in r.json["message"], r.json
    assert count_rows(app, Commission) == 0


@pytest.mark.parametrize("number, stored", [
    ("9.990", "9.99"), ("1E+2", "100.00"), ("12.5E-1", "1.25"),
    # More than two decimals, however far out, is refused, never rounded to cents.
    ("9.990000000000000000000000000000001", None), ("1.000000000000000000000000000005", None),
])
def test_a_json_number_amount_is_taken_exactly(setup, number, stored):
    app, key, code, pid = setup
    raw = (f'{{"apikey": "{key}", "affiliate": "{code}", "commission": '
           f'{{"product": {pid}, "saletotal": {number}, "commtotal": 0.5}}}}')
    r = app.test_client().post("/api", data=raw, content_type="application/json")
    if stored is None:
        assert r.status_code == 400 and "commission.saletotal" in r.json["message"], r.json
        assert count_rows(app, Commission) == 0
        return
    assert r.status_code == 200, r.json
    with app.app_context():
        from affsrv.extensions import db
        assert str(db.session.get(Commission, int(r.json["id"])).sale_total) == stored


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(setup):
    app, key, code, pid = setup
    r = app.test_client().post("/api", json={
        "apikey": key, "affiliate": code,
        "commission": {"product": pid, "saletotal": "9.99", "commtotal": "1.00",
                       "notes": "C:\\u0000dir"}})
    assert r.status_code == 200 and r.json["status"] == "ok", r.json
    with app.app_context():
        from affsrv.extensions import db
        assert db.session.get(Commission, int(r.json["id"])).notes == "C:\\u0000dir"


def test_surrogates_as_raw_bytes_are_refused_and_a_whole_pair_is_stored(setup):
    app, key, code, pid = setup

    def call(notes: str) -> str:
        return json.dumps({"apikey": key, "affiliate": code, "commission": {
            "product": pid, "saletotal": "9.99", "commtotal": "1.00", "notes": "NOTES"}}
        ).replace("NOTES", notes)

    # A surrogate's own three bytes, as json.loads decodes them: not valid UTF-8 text.
    raw = call("a").encode().replace(b'"a"', b'"\xed\xa0\x80"')
    r = app.test_client().post("/api", data=raw, content_type="application/json")
    assert r.status_code == 400 and "must be valid Unicode" in r.json["message"]
    # Both halves of a pair, escaped, are one character (as PHP's json_encode writes it).
    r = app.test_client().post("/api", data=call("\\ud83d\\ude00"),
                               content_type="application/json")
    assert r.status_code == 200, r.json
    with app.app_context():
        from affsrv.extensions import db
        assert db.session.get(Commission, int(r.json["id"])).notes == "\U0001f600"


def test_a_nul_deep_in_a_nested_body_is_a_clean_400(make_app, api_key):
    app = make_app(server={"max_body_bytes": 1_000_000})
    raw = b'{"custom": ' + b"[" * 900 + b'"\\u0000"' + b"]" * 900 + b"}"
    r = app.test_client().post("/api", data=raw, content_type="application/json")
    assert r.status_code == 400 and "must not contain NUL" in r.json["message"]


def test_deep_nesting_within_size_limit_is_a_clean_400(make_app, api_key):
    app = make_app(server={"max_body_bytes": 1_000_000})
    r = app.test_client().post("/api", data=b"[" * 200000 + b"]" * 200000,
                               content_type="application/json")
    assert r.status_code == 400 and r.json["status"] == "error"


def test_body_over_the_limit_is_413(make_app, api_key):
    app = make_app(server={"max_body_bytes": 1024})
    code = add_affiliate(app)
    r = app.test_client().post("/api", json={"apikey": api_key, "affiliate": code,
                                             "data": {"op": "info"}, "pad": "x" * 2000})
    assert r.status_code == 413
    assert r.json == {"status": "error", "message": "request body too large (limit 1024 bytes)"}


def test_disabled_affiliate_and_product_are_refused(setup):
    app, key, code, pid = setup
    from affsrv.affiliates.services import set_enabled
    from affsrv.products.services import set_enabled as set_product_enabled

    client = app.test_client()
    with app.app_context():
        set_product_enabled(pid, False)
    r = client.post("/api", json={"apikey": key, "affiliate": code,
                                  "commission": {"product": pid, "saletotal": "5",
                                                 "commtotal": "1"}})
    assert r.status_code == 403 and "disabled" in r.json["message"]
    with app.app_context():
        set_enabled(code, False)
    r = client.post("/api", json={"apikey": key, "affiliate": code,
                                  "referrer": {"url": "https://a.example"}})
    assert r.status_code == 403 and r.json["message"] == f"affiliate {code!r} is disabled"
    assert count_rows(app, Commission) == 0 and count_rows(app, Click) == 0


def test_unapproved_affiliate_cannot_earn_when_approval_is_required(make_app, api_key):
    app = make_app(affiliates={"require_approval": True})
    code = add_affiliate(app)
    pid = add_product(app)
    r = app.test_client().post("/api", json={
        "apikey": api_key, "affiliate": code,
        "commission": {"product": pid, "saletotal": "5", "commtotal": "1"}})
    assert r.status_code == 403 and "awaiting approval" in r.json["message"]


def test_self_referral_allowed_by_setting(make_app, api_key):
    app = make_app(commissions={"allow_self_referral": True})
    code = add_affiliate(app, ip="203.0.113.50")
    r = app.test_client().post("/api", json={"apikey": api_key, "affiliate": code,
                                             "referrer": {"ip": "203.0.113.50"}})
    assert r.status_code == 200


def test_revoked_key_is_refused(app, client, api_key):
    from affsrv.apikeys.services import list_api_keys, revoke_api_key

    code = add_affiliate(app)
    assert client.post("/api", json={"apikey": api_key, "affiliate": code,
                                     "data": {"op": "info"}}).status_code == 200
    with app.app_context():
        revoke_api_key(list_api_keys()[0].id)
    r = client.post("/api", json={"apikey": api_key, "affiliate": code, "data": {"op": "info"}})
    assert r.status_code == 403


def test_wrong_method_and_unknown_path_on_api(client):
    r = client.get("/api")
    assert r.status_code == 405 and r.json["status"] == "error"
