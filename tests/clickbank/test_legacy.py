"""Legacy form posts (versions up to 4.0) verified with cverify."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from affsrv.clickbank.models import InsNotification
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.orders.models import Order
from tests.clickbank.support import add_cb_account, legacy_fields, post_legacy
from tests.helpers import add_affiliate, add_product


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    return app


def _orders(app):
    with app.app_context():
        return list(db.session.scalars(
            select(Order).options(selectinload(Order.line_items)).order_by(Order.id)))


def test_right_cverify_is_stored(cb):
    r = post_legacy(cb.test_client(), legacy_fields())
    assert r.status_code == 200 and r.text.strip() == "stored"
    [order] = _orders(cb)
    assert (order.receipt, order.transaction_type, order.payment_method) == (
        "LEGACY01", "SALE", "MSTR")
    # Amounts arrive in cents.
    assert (order.total_account_amount, order.total_order_amount) == (
        Decimal("29.95"), Decimal("34.95"))
    assert order.transaction_time == datetime.fromtimestamp(1700000000, UTC)
    assert order.tracking_codes == ["tid-9"] and order.vendor_variables == {"v1": "a", "v2": "b"}
    assert (order.billing_full_name, order.billing_email, order.billing_country,
            order.billing_state, order.billing_postal_code) == (
        "Lou Smith", "lou@buyer.example", "CA", "ON", "M5V 2T6")
    [item] = order.line_items
    assert (item.item_no, item.product_title, item.account_amount) == (
        "WIDGET-1", "The Widget Course", Decimal("29.95"))
    with cb.app_context():
        stored = db.session.scalar(select(InsNotification))
        assert stored.version == "4.0" and '"cverify"' in stored.raw


@pytest.mark.parametrize("ctranstime", ["\u00b2", "\u0661\u0662"])  # "²", Arabic-Indic "12"
def test_a_time_in_other_digits_is_refused_not_a_500(cb, ctranstime):
    # str.isdigit() is true of both; int() refuses "²" and reads "١٢" as 12.
    r = post_legacy(cb.test_client(), legacy_fields(ctranstime=ctranstime))
    assert r.status_code == 400 and "transactionTime" in r.text, r.text
    assert _orders(cb) == []


def test_wrong_cverify_is_400(cb):
    fields = legacy_fields()
    fields["cverify"] = "DEADBEEF"
    r = post_legacy(cb.test_client(), fields)
    assert r.status_code == 400 and "cverify does not match" in r.text
    assert _orders(cb) == []


def test_altered_field_or_wrong_key_fails_cverify(cb):
    fields = legacy_fields()
    fields["caccountamount"] = "999999"
    assert post_legacy(cb.test_client(), fields).status_code == 400
    assert post_legacy(cb.test_client(), legacy_fields(secret="OTHERKEY")).status_code == 400
    missing = legacy_fields()
    del missing["cverify"]
    r = post_legacy(cb.test_client(), missing)
    assert r.status_code == 400 and "cverify is missing" in r.text


def test_per_item_posts_add_items_once_and_count_them(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    add_product(cb, name="Bump", sku="BUMP-1", commission_rate=Decimal("10"))
    client = cb.test_client()
    first = legacy_fields(ctransaffiliate="annie")
    second = legacy_fields(ctransaffiliate="annie", cproditem="BUMP-1", corderamount="1000")
    assert post_legacy(client, first).text.strip() == "stored"
    assert post_legacy(client, second).text.strip() == "stored"
    assert post_legacy(client, second).text.strip().startswith("duplicate")
    [order] = _orders(cb)
    assert sorted(i.item_no for i in order.line_items) == ["BUMP-1", "WIDGET-1"]
    with cb.app_context():
        amounts = sorted(c.commission_total for c in db.session.scalars(select(Commission)))
    assert amounts == [Decimal("1.00"), Decimal("3.50")]


def test_an_amount_past_decimals_limits_is_400(cb):
    # In cents: divided by 100 it would still be past decimal's exponent limit.
    r = post_legacy(cb.test_client(), legacy_fields(caccountamount="1E+1000002"))
    assert r.status_code == 400 and b"must be a finite amount" in r.data
    assert _orders(cb) == []
