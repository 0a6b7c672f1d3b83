"""What ClickBank intake writes to commission.log when a line item earns nothing or earns in
another currency: the operator's one trace of it, so each line names the notification, the
item and (where known) the affiliate and the reason."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, log_records

FIELDS = ("event", "account", "receipt", "type", "item")


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    return app


def _commission_lines(app, event_start):
    return [r for r in log_records(app, "commission") if r["event"].startswith(event_start)]


def _commissions(app):
    with app.app_context():
        return [(c.order_ref, c.commission_total, c.currency)
                for c in db.session.scalars(select(Commission).order_by(Commission.id))]


def test_an_unknown_sku_refused_is_logged_and_the_next_item_of_the_cart_still_earns(cb):
    assert run_cli(cb, "account", "set", "myvendor", "--unknown-skus", "refuse").exit_code == 0
    add_product(cb, sku="KNOWN-1", commission_rate=Decimal("10"))
    doc = notification(affiliate="annie", transactionType="BILL")
    doc["lineItems"][0]["itemNo"] = "NEW-1"
    doc["lineItems"].append({**doc["lineItems"][0], "itemNo": "KNOWN-1", "productPrice": 20.00})
    assert post_ins(cb.test_client(), doc).status_code == 200
    [line] = _commission_lines(cb, "ins: no product")
    assert {k: line.get(k) for k in FIELDS} == {
        "event": "ins: no product with this SKU; no commission", "account": "myvendor",
        "receipt": "ABCD1234", "type": "BILL", "item": "NEW-1"}
    assert _commissions(cb) == [("ABCD1234/BILL", Decimal("2.00"), "USD")]


def test_a_line_item_that_earns_nothing_is_logged_with_its_affiliate_and_reason(cb):
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    doc = notification(affiliate="annie", receipt="ZERO0001")
    doc["lineItems"][0]["productPrice"] = 0
    assert post_ins(cb.test_client(), doc).status_code == 200
    [line] = _commission_lines(cb, "ins: commission not changed")
    assert {k: line.get(k) for k in (*FIELDS, "affiliate", "reason")} == {
        "event": "ins: commission not changed", "account": "myvendor", "receipt": "ZERO0001",
        "type": "SALE", "item": "WIDGET-1", "affiliate": "annie",
        "reason": "the line item has no positive price"}
    assert _commissions(cb) == []


def test_a_commission_in_another_currency_than_the_ledgers_is_logged(cb):
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert post_ins(cb.test_client(), notification(affiliate="annie", currency="EUR")
                    ).status_code == 200
    [line] = _commission_lines(cb, "ins: commission recorded in the order's currency")
    assert {k: line.get(k) for k in (*FIELDS, "affiliate", "currency", "ledger_currency")} == {
        "event": "ins: commission recorded in the order's currency, not in the Data API's "
                 "totals",
        "account": "myvendor", "receipt": "ABCD1234", "type": "SALE", "item": "WIDGET-1",
        "affiliate": "annie", "currency": "EUR", "ledger_currency": "USD"}
    assert _commissions(cb) == [("ABCD1234", Decimal("5.00"), "EUR")]
    # The same notification again records nothing and logs nothing more.
    assert post_ins(cb.test_client(), notification(affiliate="annie", currency="EUR")
                    ).status_code == 200
    assert len(_commission_lines(cb, "ins: commission recorded in the order's currency")) == 1


def test_a_commission_in_the_ledger_currency_is_not_logged(cb):
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert post_ins(cb.test_client(), notification(affiliate="annie")).status_code == 200
    assert _commission_lines(cb, "ins: commission recorded") == []
    assert _commissions(cb) == [("ABCD1234", Decimal("5.00"), "USD")]


def _not_changed_reason(app, doc):
    assert post_ins(app.test_client(), doc).status_code == 200
    [line] = _commission_lines(app, "ins: commission not changed")
    assert _commissions(app) == []
    return line["reason"]


def test_an_order_over_the_sale_limit_is_logged_with_the_limit(make_app):
    app = make_app(commissions={"require_approval": False, "max_saletotal": "40.00"},
                   mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    doc = notification(affiliate="annie")
    doc["lineItems"][0]["productPrice"] = 30.00  # the item is under the limit, the order not
    assert _not_changed_reason(app, doc) == (
        "sale total 49.95 is over the limit 40.00 ([commissions] max_saletotal): no commission")


def test_an_unapproved_affiliate_is_logged_as_awaiting_approval(make_app):
    app = make_app(affiliates={"require_approval": True}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert _not_changed_reason(app, notification(affiliate="annie")) == (
        "affiliate 'annie' is awaiting approval")


def test_a_disabled_affiliate_is_logged_as_disabled(make_app):
    """ClickBank names an affiliate the merchant disabled: the order is stored, nothing is
    earned, and the log says why."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    disabled = run_cli(app, "affiliate", "disable", "annie")
    assert disabled.exit_code == 0, disabled.output
    assert _not_changed_reason(app, notification(affiliate="annie")) == (
        "affiliate 'annie' is disabled")


def test_a_disabled_product_is_logged_as_ignored(cb):
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert run_cli(cb, "product", "disable", str(pid)).exit_code == 0
    assert _not_changed_reason(cb, notification(affiliate="annie")) == (
        f"product {pid} is disabled: commissions for it are ignored")


def test_a_clickbank_commission_has_no_buyer_ip_and_is_sourced_clickbank(cb):
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert post_ins(cb.test_client(), notification(affiliate="annie")).status_code == 200
    with cb.app_context():
        sale = db.session.scalar(select(Commission))
        assert (sale.ip, sale.source, sale.notes) == (
            "", "clickbank", "ClickBank SALE ABCD1234 item WIDGET-1")


@pytest.mark.parametrize("refund_first", [False, True], ids=["plain", "refund-first"])
def test_a_sale_that_earns_or_is_reversed_at_once_logs_no_unchanged_commission(cb, refund_first):
    """A plain sale, and a sale reversed at once by the refund stored before it, both change a
    commission as they should: commission.log says nothing of either (the early refund itself
    found no sale to reverse, and says so)."""
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    client = cb.test_client()
    kinds = ("RFND", "SALE") if refund_first else ("SALE",)
    for kind in kinds:
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    unchanged = _commission_lines(cb, "ins: commission not changed")
    assert [line["type"] for line in unchanged] == (["RFND"] if refund_first else [])
    assert _commissions(cb) == [("ABCD1234", Decimal("5.00"), "USD")]
