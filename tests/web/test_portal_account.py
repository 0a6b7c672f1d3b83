"""Closing an affiliate account ([affiliates] allow_close) and the sign-up limit per address
([limits] signups_per_address)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.services import get_affiliate, set_enabled, update_affiliate
from affsrv.commissions.models import Commission
from affsrv.errors import Conflict
from affsrv.extensions import db
from affsrv.payments.models import Payment
from affsrv.payments.services import balances, record_payment
from affsrv.portal.models import AffiliateLogin
from affsrv.tracking.models import ClickCount
from tests.helpers import add_affiliate, add_product
from tests.web.support import csrf_token, merchant_client, record_sale

PASSWORD = "affiliate pass 1"
CLOSE = "/affiliate/account/close"


def _signed_in(app, email):
    client = app.test_client()
    token = csrf_token(client, "/affiliate/login")
    answer = client.post("/affiliate/login", data={"csrf_token": token, "email": email,
                                                   "password": PASSWORD})
    assert answer.status_code == 303
    return client


def _close(client, password=PASSWORD, understood="y", token=None):
    data = {"csrf_token": token if token is not None else csrf_token(client, CLOSE),
            "password": password}
    if understood:
        data["understood"] = understood
    return client.post(CLOSE, data=data)


def _record(app, code="ann"):
    with app.app_context():
        a = get_affiliate(code)
        return {"fname": a.fname, "lname": a.lname, "email": a.email, "ip": a.ip,
                "payinfo": a.payinfo, "notes": a.notes, "extra": a.extra,
                "nickname": a.clickbank_nickname, "password": a.password_hash,
                "enabled": a.enabled, "id": a.id,
                "logins": db.session.scalar(select(func.count()).select_from(AffiliateLogin)
                                            .where(AffiliateLogin.affiliate_id == a.id))}


def _books(app):
    """Every commission's and payment's amounts, and ann's balance."""
    with app.app_context():
        commissions = sorted(db.session.execute(select(
            Commission.id, Commission.affiliate_id, Commission.sale_total,
            Commission.commission_total, Commission.status, Commission.payment_id)).all())
        payments = sorted(db.session.execute(select(
            Payment.id, Payment.affiliate_id, Payment.amount, Payment.currency)).all())
        ann = get_affiliate("ann")
        return commissions, payments, balances([ann.id])[ann.id]


@pytest.fixture
def ann_with_money(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    widget = add_product(app, name="Widget")
    add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD,
                  ip="10.0.0.9")
    add_affiliate(app, code="bob", email="bob@blog.example", password=PASSWORD)
    with app.app_context():
        update_affiliate("ann", payinfo="PayPal ann@pay.example", notes="met at a fair",
                         clickbank_nickname="anncb")
        ann = get_affiliate("ann")
        ann.extra = {"phone": "+1 555 0100"}
        db.session.commit()
    record_sale(app, "ann", widget, "12.00", ref="a1")
    record_sale(app, "ann", widget, "8.00", ref="a2")
    record_sale(app, "bob", widget, "5.00", ref="b1")
    with app.app_context():
        record_payment(get_affiliate("ann"), method="paypal", amount="12.00",
                       reference="P-ann")
    return app, widget


def test_closing_erases_personal_data_keeps_the_amounts_and_signs_out(ann_with_money):
    app, widget = ann_with_money
    ann = _signed_in(app, "ann@blog.example")
    other_session = _signed_in(app, "ann@blog.example")
    before = _books(app)
    assert before[2].owed == Decimal("8.00")
    page = ann.get(CLOSE).get_data(as_text=True)
    assert 'id="still-owed"' in page and "8.00 USD" in page  # told what cannot be paid
    done = _close(ann)
    assert done.status_code == 303 and done.headers["Location"] == "/affiliate/login"
    record = _record(app)
    assert record == {
        "fname": "(closed)", "lname": "", "email": f"closed-{record['id']}@closed.invalid",
        "ip": "", "payinfo": "", "notes": record["notes"], "extra": {}, "nickname": None,
        "password": None, "enabled": False, "id": record["id"], "logins": 0}
    assert re.fullmatch(r"Closed by the affiliate on \d{4}-\d\d-\d\d \(UTC\); personal data "
                        r"erased\.", record["notes"])
    # The merchant's books: every commission and payment as it was, the totals unchanged.
    assert _books(app) == before
    # Signed out here and everywhere, and no way back in.
    assert ann.get("/affiliate/").status_code == 302
    assert other_session.get("/affiliate/").status_code == 302
    login = app.test_client()
    token = csrf_token(login, "/affiliate/login")
    assert login.post("/affiliate/login", data={"csrf_token": token, "email": "ann@blog.example",
                                                "password": PASSWORD}).status_code == 401
    # The code stays (the merchant's reports name it), but earns nothing: a visitor still
    # reaches the shop, without the code and without a click counted.
    landing = app.test_client().get(f"/r/ann?p={widget}", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    assert landing.status_code == 302 and "maff=" not in landing.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ClickCount)) == 0
        # It cannot be enabled again.
        with pytest.raises(Conflict, match="closed their account"):
            set_enabled("ann", True)
        assert db.session.scalar(select(Affiliate.enabled).where(Affiliate.code == "ann")) \
            is False
    # The merchant sees it closed, with the amounts.
    merchant = merchant_client(app)
    shown = merchant.get("/admin/affiliates/ann").get_data(as_text=True)
    assert "(closed)" in shown and "closed.invalid" in shown and "Closed by the affiliate" in shown
    assert "PayPal ann@pay.example" not in shown and "met at a fair" not in shown


def test_bob_is_untouched_when_ann_closes(ann_with_money):
    app, _widget = ann_with_money
    before = _record(app, "bob")
    assert _close(_signed_in(app, "ann@blog.example")).status_code == 303
    assert _record(app, "bob") == before
    assert _signed_in(app, "bob@blog.example").get("/affiliate/").status_code == 200


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"password": "wrong password"}, 401, "that is not your password"),
    ({"understood": ""}, 400, "tick this to close the account"),
    ({"password": ""}, 400, "This field is required"),
    ({"token": ""}, 400, "CSRF"),
])
def test_refused_closing_changes_nothing(ann_with_money, change, status, message):
    app, _widget = ann_with_money
    ann = _signed_in(app, "ann@blog.example")
    before = _record(app), _books(app)
    answer = _close(ann, **change)
    assert answer.status_code == status
    assert message in answer.get_data(as_text=True)
    assert (_record(app), _books(app)) == before
    assert ann.get("/affiliate/").status_code == 200


def test_wrong_passwords_on_closing_are_throttled(make_app):
    app = make_app(web={"signin_failures_per_account": 2})
    add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD)
    ann = _signed_in(app, "ann@blog.example")
    assert _close(ann, "wrong one").status_code == 401
    assert _close(ann, "wrong two").status_code == 401
    refused = _close(ann)  # the right password, but too late
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    assert _record(app)["enabled"] is True


def test_closing_can_be_turned_off(make_app):
    app = make_app(affiliates={"allow_close": False})
    add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD)
    ann = _signed_in(app, "ann@blog.example")
    assert "close-account" not in ann.get("/affiliate/account").get_data(as_text=True)
    assert ann.get(CLOSE).status_code == 404
    token = csrf_token(ann, "/affiliate/account")
    assert ann.post(CLOSE, data={"csrf_token": token, "password": PASSWORD,
                                 "understood": "y"}).status_code == 404
    assert _record(app)["enabled"] is True


def test_the_account_page_links_to_closing(app):
    add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD)
    ann = _signed_in(app, "ann@blog.example")
    assert 'id="close-account" href="/affiliate/account/close"' in ann.get(
        "/affiliate/account").get_data(as_text=True)


def _sign_up(app, email, address, **change):
    client = app.test_client()
    data = {"csrf_token": csrf_token(client, "/affiliate/signup"), "fname": "Dee",
            "lname": "Park", "email": email, "password": PASSWORD, "confirm": PASSWORD,
            **change}
    return client.post("/affiliate/signup", data=data, environ_base={"REMOTE_ADDR": address})


def _affiliates(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Affiliate))


def test_sign_ups_are_limited_per_address(make_app):
    app = make_app(limits={"signups_per_address": "3 per hour"}, mail={"enabled": False})
    # A form sent back for a typo does not count; a taken e-mail does.
    assert _sign_up(app, "d1@blog.example", "10.9.9.9", confirm="typo").status_code == 400
    assert _sign_up(app, "d1@blog.example", "10.9.9.9").status_code == 303
    assert _sign_up(app, "d1@blog.example", "10.9.9.9").status_code == 409
    assert _sign_up(app, "d2@blog.example", "10.9.9.9").status_code == 303
    refused = _sign_up(app, "d3@blog.example", "10.9.9.9")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    page = refused.get_data(as_text=True)
    assert "Too many sign-ups from your address" in page and 'name="fname"' in page
    assert refused.mimetype == "text/html"
    assert _affiliates(app) == 2
    # Another address is not held back; an IPv6 client counts by its /64.
    assert _sign_up(app, "d3@blog.example", "10.9.9.10").status_code == 303
    for n in range(3):
        assert _sign_up(app, f"v{n}@blog.example", f"2001:db8::{n + 1}").status_code == 303
    assert _sign_up(app, "v9@blog.example", "2001:db8::99").status_code == 429
    assert _affiliates(app) == 6


def test_the_default_sign_up_limit(make_app):
    from affsrv.config import DEFAULTS

    assert DEFAULTS["limits"]["signups_per_address"] == "5 per hour; 20 per day"
    app = make_app(mail={"enabled": False})
    for n in range(5):
        assert _sign_up(app, f"d{n}@blog.example", "10.8.8.8").status_code == 303
    assert _sign_up(app, "d9@blog.example", "10.8.8.8").status_code == 429
