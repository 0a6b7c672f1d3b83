"""What a Data API commission call stores beside its amounts (the buyer's IP, the notes, the
source, the reversal's reason and notes) and the exact refusal each rule answers: the
details the commission service writes that the amount tests do not look at."""

from decimal import Decimal

import pytest
from sqlalchemy import select, update

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.services import record_payment
from affsrv.products.models import Product
from tests.helpers import add_affiliate, add_product, api, count_rows


@pytest.fixture
def shop(make_app, api_key):
    app = make_app(commissions={"require_approval": False},
                   mail={"enabled": False})
    return app, app.test_client(), api_key, add_affiliate(app, ip="203.0.113.50"), add_product(app)


def _stored(app, commission_id):
    with app.app_context():
        c = db.session.get(Commission, int(commission_id))
        return {"kind": c.kind, "status": c.status, "sale_total": c.sale_total,
                "commission_total": c.commission_total, "ip": c.ip, "notes": c.notes,
                "source": c.source, "reason": c.reversal_reason, "currency": c.currency,
                "ref": c.order_ref}


def test_a_sale_stores_the_buyers_ip_and_notes_and_is_sourced_api(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                           "commtotal": "1.00", "ref": "S1",
                                           "ip": "198.51.100.7", "notes": "spring"})
    assert r.status_code == 200 and r.json["duplicate"] == "no", r.json
    assert _stored(app, r.json["id"]) == {
        "kind": "sale", "status": "approved", "sale_total": Decimal("10.00"),
        "commission_total": Decimal("1.00"), "ip": "198.51.100.7", "notes": "spring",
        "source": "api", "reason": None, "currency": "USD", "ref": "S1"}


def test_a_sale_without_ip_or_notes_stores_them_empty(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                           "commtotal": "1.00"})
    assert r.status_code == 200, r.json
    stored = _stored(app, r.json["id"])
    assert (stored["ip"], stored["notes"], stored["ref"]) == ("", "", None)


@pytest.mark.parametrize("notes", ["returned in 30 days", None])
def test_a_clawback_of_a_paid_sale_keeps_the_reversals_notes(shop, notes):
    app, client, key, code, pid = shop
    api(client, key, code, commission={"product": pid, "saletotal": "30.00",
                                       "commtotal": "3.00", "ref": "P1", "notes": "sale notes"})
    with app.app_context():
        record_payment(db.session.scalar(select(Affiliate).where(Affiliate.code == code)),
                       method="PayPal", amount="3.00")
    call = {"product": pid, "type": "refund", "ref": "P1"}
    if notes is not None:
        call["notes"] = notes
    r = api(client, key, code, commission=call)
    assert r.status_code == 200 and r.json["commission_status"] == "approved", r.json
    assert _stored(app, r.json["id"]) == {
        "kind": "reversal", "status": "approved", "sale_total": Decimal("-30.00"),
        "commission_total": Decimal("-3.00"), "ip": "", "notes": notes or "",
        "source": "api", "reason": "refund", "currency": "USD", "ref": "P1"}


def test_a_chargeback_of_an_unpaid_sale_records_its_reason(shop):
    app, client, key, code, pid = shop
    api(client, key, code, commission={"product": pid, "saletotal": "30.00",
                                       "commtotal": "3.00", "ref": "U1"})
    r = api(client, key, code, commission={"product": pid, "type": "chargeback", "ref": "U1"})
    assert r.status_code == 200 and r.json["commission_status"] == "reversed", r.json
    stored = _stored(app, r.json["id"])
    assert (stored["kind"], stored["status"], stored["reason"]) == (
        "sale", "reversed", "chargeback")


def _disable_product(app, pid):
    with app.app_context():
        db.session.execute(update(Product).where(Product.id == pid).values(enabled=False))
        db.session.commit()


def _exact_refusals(code, pid):
    """(call, expected status, expected message) for each refusal of the commission rules."""
    return [
        ({"product": pid, "saletotal": "5.00"}, 400,
         "commission.commtotal is required: the affiliate has no commtier and the product no "
         "commission rate"),
        ({"product": pid, "saletotal": "10.00", "commtotal": "10.01"}, 400,
         "commission.commtotal 10.01 is more than commission.saletotal 10.00"),
        ({"product": pid, "saletotal": "10.00", "commtotal": "1.00", "ip": "203.0.113.50"},
         403, "self-referral refused: the buyer's IP is the affiliate's own IP"),
        ({"product": pid, "type": "refund", "ref": "nope"}, 404,
         f"no sale with ref 'nope' for affiliate {code!r} and product {pid} to refund"),
    ]


def test_each_refusal_answers_its_exact_message_and_writes_nothing(shop):
    app, client, key, code, pid = shop
    for call, status, message in _exact_refusals(code, pid):
        r = api(client, key, code, commission=call)
        assert (r.status_code, r.json["message"]) == (status, message), call
    _disable_product(app, pid)
    r = api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                           "commtotal": "1.00"})
    assert (r.status_code, r.json["message"]) == (
        403, f"product {pid} is disabled: commissions for it are ignored")
    assert count_rows(app, Commission) == 0


def test_an_unapproved_affiliate_is_refused_by_name(make_app, api_key):
    app = make_app(affiliates={"require_approval": True}, mail={"enabled": False})
    code, pid = add_affiliate(app), add_product(app)
    r = api(app.test_client(), api_key, code,
            commission={"product": pid, "saletotal": "10.00", "commtotal": "1.00"})
    assert (r.status_code, r.json["message"]) == (
        403, f"affiliate {code!r} is awaiting approval")
    assert count_rows(app, Commission) == 0
