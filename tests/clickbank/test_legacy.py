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
from tests.helpers import add_affiliate, add_product, log_records


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app, legacy_cverify=True)
    return app


def _reason(app, response) -> str:
    """Refusals are answered alike; the reason is commission.log's."""
    assert (response.status_code, response.data) == (400, b"rejected\n")
    return log_records(app, "commission")[-1]["reason"]


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
    assert "transactionTime" in _reason(cb, r)
    assert _orders(cb) == []


def test_wrong_cverify_is_400(cb):
    fields = legacy_fields()
    fields["cverify"] = "DEADBEEF"
    r = post_legacy(cb.test_client(), fields)
    assert "cverify does not match" in _reason(cb, r)
    assert _orders(cb) == []


def test_altered_field_or_wrong_key_fails_cverify(cb):
    fields = legacy_fields()
    fields["caccountamount"] = "999999"
    assert "cverify does not match" in _reason(cb, post_legacy(cb.test_client(), fields))
    assert "cverify does not match" in _reason(
        cb, post_legacy(cb.test_client(), legacy_fields(secret="OTHERKEY")))
    missing = legacy_fields()
    del missing["cverify"]
    r = post_legacy(cb.test_client(), missing)
    assert "cverify is missing" in _reason(cb, r)


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
    assert "must be a finite amount" in _reason(cb, r)
    assert _orders(cb) == []


def test_legacy_posts_are_off_for_new_accounts_and_toggled_by_the_cli(make_app):
    from tests.clickbank.support import SECRET, run_cli

    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    added = run_cli(app, "account", "add", "--nickname", "myvendor", "--secret-key", SECRET)
    assert added.exit_code == 0, added.output
    assert "myvendor" in run_cli(app, "account", "list").output
    [row] = [line for line in run_cli(app, "account", "list").output.splitlines()
             if "myvendor" in line]
    assert " off " in f" {row} "
    # A right cverify, refused all the same: the answer is the one every refusal gets.
    assert "legacy cverify posts are off" in _reason(app, post_legacy(app.test_client(),
                                                                      legacy_fields()))
    assert _orders(app) == []

    on = run_cli(app, "account", "set", "myvendor", "--legacy-cverify")
    assert on.exit_code == 0 and "accepted" in on.output, on.output
    [row] = [line for line in run_cli(app, "account", "list").output.splitlines()
             if "myvendor" in line]
    assert " on " in f" {row} "
    assert post_legacy(app.test_client(), legacy_fields()).data == b"stored\n"

    off = run_cli(app, "account", "set", "myvendor", "--no-legacy-cverify")
    assert off.exit_code == 0 and "refused" in off.output
    assert "legacy cverify posts are off" in _reason(
        app, post_legacy(app.test_client(), legacy_fields(ctransreceipt="LEGACY02")))
    unknown = run_cli(app, "account", "set", "nobody", "--legacy-cverify")
    assert unknown.exit_code == 1 and "unknown account" in unknown.output


def test_add_can_allow_legacy_posts_at_once(make_app):
    from tests.clickbank.support import SECRET, run_cli

    app = make_app(mail={"enabled": False})
    added = run_cli(app, "account", "add", "--nickname", "myvendor", "--secret-key", SECRET,
                    "--legacy-cverify")
    assert added.exit_code == 0, added.output
    assert post_legacy(app.test_client(), legacy_fields()).data == b"stored\n"
