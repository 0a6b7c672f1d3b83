"""The branches of ClickBank intake that move money, each pinned by a test that fails when the
branch is broken (docs/money-paths.md names the mutant each one kills)."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, text

from affsrv.clickbank.models import InsNotification
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from affsrv.notifications.models import OutboxMessage
from affsrv.orders.models import Order, OrderLineItem
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, api, count_rows


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    return app


def _commissions(app: Flask) -> list[Commission]:
    with app.app_context():
        rows = list(db.session.scalars(select(Commission).order_by(Commission.id)))
        db.session.expunge_all()
        return rows


def _totals(app: Flask, key: str, code: str) -> dict[str, dict[str, str]]:
    r = api(app.test_client(), key, code, data={"op": "commissions"})
    assert r.status_code == 200, r.json
    return {pid: {k: v for k, v in t.items() if k != "last_commission"}
            for pid, t in r.json["data"].items()}


def _item(doc: dict, **fields) -> dict:
    """``doc`` with its one line item changed by ``fields``."""
    doc["lineItems"][0].update(fields)
    return doc


# 1. A line item without productPrice ----------------------------------------------------------

def test_a_line_item_without_product_price_earns_on_its_account_amount(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    doc = _item(notification(affiliate="annie"), productPrice=None, accountAmount=40.00)
    assert post_ins(cb.test_client(), doc).status_code == 200
    [sale] = _commissions(cb)
    assert (sale.sale_total, sale.commission_total) == (Decimal("40.00"), Decimal("4.00"))


def test_a_line_item_without_price_or_account_amount_earns_on_the_order_total(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    doc = _item(notification(affiliate="annie", totalOrderAmount=60.00),
                productPrice=None, accountAmount=None)
    assert post_ins(cb.test_client(), doc).status_code == 200
    [sale] = _commissions(cb)
    assert (sale.sale_total, sale.commission_total) == (Decimal("60.00"), Decimal("6.00"))


# 2. Prices of 0 and between 0 and 1 -----------------------------------------------------------

def test_a_line_item_priced_zero_earns_nothing_but_is_stored(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    doc = _item(notification(affiliate="annie"), productPrice=0)
    assert post_ins(cb.test_client(), doc).status_code == 200
    assert _commissions(cb) == [] and count_rows(cb, OrderLineItem) == 1


def test_a_line_item_priced_under_one_earns_its_share(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("50"))
    doc = _item(notification(affiliate="annie"), productPrice=0.50)
    assert post_ins(cb.test_client(), doc).status_code == 200
    [sale] = _commissions(cb)
    assert (sale.sale_total, sale.commission_total) == (Decimal("0.50"), Decimal("0.25"))


# 3. A catalogue SKU sold with no matched affiliate ----------------------------------------------

@pytest.mark.parametrize("nickname", ["", "nobody"])
def test_a_catalogue_sku_without_an_affiliate_is_stored_with_its_product(cb, nickname):
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    r = post_ins(cb.test_client(), notification(affiliate=nickname))
    assert r.status_code == 200 and r.get_data(as_text=True) == "stored\n"
    with cb.app_context():
        order = db.session.scalar(select(Order))
        assert (order.affiliate_id, order.affiliate_nickname) == (None, nickname)
        assert [item.product_id for item in order.line_items] == [pid]
    assert _commissions(cb) == []


# 4. The "already applied" check of a reversal ---------------------------------------------------

def test_a_rebill_after_a_refund_earns_its_commission(cb, api_key):
    """The refund reversed the sale: it does not apply again to the rebill that follows."""
    code = add_affiliate(cb, code="annie")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for kind in ("SALE", "RFND", "BILL"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    sale, rebill = _commissions(cb)
    assert (sale.status, sale.order_ref) == (CommissionStatus.REVERSED, "ABCD1234")
    assert (rebill.status, rebill.order_ref) == (CommissionStatus.APPROVED, "ABCD1234/BILL")
    assert _totals(cb, api_key, code) == {str(pid): {
        "commissions": "1", "sale_total": "49.95", "commission_total": "9.99"}}


def test_two_receipts_refunded_before_their_sales_are_both_reversed(cb, api_key):
    """One receipt's applied refund is not the other's."""
    code = add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for receipt in ("FIRST001", "SECOND02"):
        assert post_ins(client, notification(affiliate="annie", receipt=receipt,
                                             transactionType="RFND")).status_code == 200
    for receipt in ("FIRST001", "SECOND02"):
        assert post_ins(client, notification(affiliate="annie", receipt=receipt)
                        ).status_code == 200
    assert [(c.order_ref, c.status) for c in _commissions(cb)] == [
        ("FIRST001", CommissionStatus.REVERSED), ("SECOND02", CommissionStatus.REVERSED)]
    assert _totals(cb, api_key, code) == {}


def test_a_refund_reverses_the_sale_once_the_rebill_is_clawed_back(cb):
    """Sale and rebill paid; a first refund claws the rebill back, a second one the sale."""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for kind in ("SALE", "BILL"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    assert run_cli(cb, "payment", "add", "--affiliate", "annie", "--method", "PayPal",
                   "--amount", "19.98").exit_code == 0
    for kind in ("RFND", "CGBK"):
        doc = notification(affiliate="annie", transactionType=kind)
        assert post_ins(client, doc).status_code == 200
    twins = [(c.order_ref, c.reversal_reason) for c in _commissions(cb)
             if c.kind == CommissionKind.REVERSAL]
    assert twins == [("ABCD1234/BILL", "refund"), ("ABCD1234", "chargeback")]


def test_a_refund_of_one_item_is_not_taken_for_another_items_rebill(cb):
    """A cart's bump is rebilled, its main item is not: refunding the main item reverses the
    main item's sale, whatever the bump's rebill."""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    add_product(cb, name="Bump", sku="BUMP-1", commission_rate=Decimal("50"))
    sale = notification(affiliate="annie")
    bump = {**sale["lineItems"][0], "itemNo": "BUMP-1", "productPrice": 10.00}
    sale["lineItems"].append(bump)
    client = cb.test_client()
    assert post_ins(client, sale).status_code == 200
    assert post_ins(client, notification(affiliate="annie", transactionType="BILL",
                                         lineItems=[bump])).status_code == 200
    assert post_ins(client, notification(affiliate="annie", transactionType="RFND")
                    ).status_code == 200
    assert {(c.order_ref, c.notes.split()[-1]): c.status for c in _commissions(cb)} == {
        ("ABCD1234", "WIDGET-1"): CommissionStatus.REVERSED,
        ("ABCD1234", "BUMP-1"): CommissionStatus.APPROVED,
        ("ABCD1234/BILL", "BUMP-1"): CommissionStatus.APPROVED}


def test_a_refund_is_not_taken_for_another_affiliates_commission_with_the_same_ref(cb, api_key):
    """A commission another affiliate earned through the Data API under the rebill's ref does
    not stand in for this affiliate's rebill."""
    add_affiliate(cb, code="annie")
    bert = add_affiliate(cb, code="bert")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    r = api(client, api_key, bert, commission={"product": pid, "saletotal": "10.00",
                                              "commtotal": "1.00", "ref": "ABCD1234/BILL"})
    assert r.status_code == 200, r.json
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    assert post_ins(client, notification(affiliate="annie", transactionType="RFND")
                    ).status_code == 200
    assert [(c.order_ref, c.status) for c in _commissions(cb)] == [
        ("ABCD1234/BILL", CommissionStatus.APPROVED), ("ABCD1234", CommissionStatus.REVERSED)]


def test_a_sale_arriving_after_its_rebill_was_refunded_stands(cb):
    """The refund reversed the rebill (the commission standing then): the sale that ClickBank
    delivers late is not reversed by it again."""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for kind in ("BILL", "RFND", "SALE"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    assert [(c.order_ref, c.status) for c in _commissions(cb)] == [
        ("ABCD1234/BILL", CommissionStatus.REVERSED), ("ABCD1234", CommissionStatus.APPROVED)]


def test_a_refund_in_another_account_does_not_reverse_a_sale_with_the_same_receipt(cb):
    add_cb_account(cb, nickname="othervendor", secret="OTHERSECRET12345")
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    refund = notification(affiliate="annie", transactionType="RFND", vendor="othervendor")
    assert post_ins(client, refund, secret="OTHERSECRET12345", account="othervendor"
                    ).status_code == 200
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    assert [(c.order_ref, c.status) for c in _commissions(cb)] == [
        ("ABCD1234", CommissionStatus.APPROVED)]


def test_another_affiliates_reversed_commission_is_not_this_refund_applied(cb, api_key):
    """Bert's commission under the same ref, reversed through the Data API, does not count as
    the refund already applied to Annie's sale that arrives after its refund."""
    add_affiliate(cb, code="annie")
    bert = add_affiliate(cb, code="bert")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for call in ({"product": pid, "saletotal": "10.00", "commtotal": "1.00", "ref": "ABCD1234"},
                 {"product": pid, "type": "refund", "ref": "ABCD1234"}):
        assert api(client, api_key, bert, commission=call).status_code == 200
    for kind in ("RFND", "SALE"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    assert [c.status for c in _commissions(cb)] == [CommissionStatus.REVERSED] * 2



@pytest.mark.parametrize(("first", "then", "reason"), [("RFND", "CGBK", "refund"),
                                                      ("CGBK", "RFND", "chargeback")])
def test_a_sale_after_two_reversals_is_reversed_for_the_first_received(cb, first, then, reason):
    """A refund and a chargeback of the receipt both arrive before its sale: the sale is
    reversed for the one received first (in both orders, so whichever order the database
    would return them in unasked, one case fails if they are not read in arrival order)."""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for kind in (first, then, "SALE"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    [sale] = _commissions(cb)
    assert (sale.status, sale.reversal_reason) == (CommissionStatus.REVERSED, reason)


def test_a_refund_that_reversed_nothing_applies_to_the_rebill_that_follows(cb, api_key):
    """The refund names no affiliate, so it reverses none of Annie's commissions; Annie's sale
    standing is not that refund applied: her rebill that follows is reversed at once, and she
    keeps one commission of the receipt's two payments, not two."""
    code = add_affiliate(cb, code="annie")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    for kind, nickname in (("SALE", "annie"), ("RFND", ""), ("BILL", "annie")):
        assert post_ins(client, notification(affiliate=nickname, transactionType=kind)
                        ).status_code == 200
    assert [(c.order_ref, c.status, c.reversal_reason) for c in _commissions(cb)] == [
        ("ABCD1234", CommissionStatus.APPROVED, None),
        ("ABCD1234/BILL", CommissionStatus.REVERSED, "refund")]
    assert _totals(cb, api_key, code) == {str(pid): {
        "commissions": "1", "sale_total": "49.95", "commission_total": "9.99"}}

# 5. One notification, one transaction -----------------------------------------------------------

@contextmanager
def _refused_outbox_rows(app: Flask, marker: str) -> Iterator[None]:
    """A real constraint in the database: an outbox row whose payload names ``marker`` is
    refused (a trigger; the schema itself has none to violate this late in intake)."""
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(
                "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.payload::text LIKE '%{marker}%' THEN RAISE EXCEPTION 'refused' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$"))
            conn.execute(text("CREATE TRIGGER refuse_marked BEFORE INSERT ON outbox_messages "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"))
        else:
            conn.execute(text(
                "CREATE TRIGGER refuse_marked BEFORE INSERT ON outbox_messages "
                f"WHEN NEW.payload LIKE '%{marker}%' BEGIN SELECT RAISE(ABORT, 'refused'); END"))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_marked" + (
                " ON outbox_messages" if conn.dialect.name == "postgresql" else "")))
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION refuse_marked()"))


def _late_bump_cart(make_app) -> tuple[Flask, dict]:
    """An app mailing Annie about each commission, and a sale of a cart whose second item,
    "Late Bump", is written after the first item's commission (``_refused_outbox_rows``
    can refuse its e-mail)."""
    app = make_app(commissions={"require_approval": False},
                   mail={"enabled": True, "affiliate_emails": True})
    add_cb_account(app)
    add_affiliate(app, code="annie", email="annie@aff.example")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    add_product(app, name="Late Bump", sku="BUMP-1", commission_rate=Decimal("50"))
    doc = notification(affiliate="annie")
    doc["lineItems"].append({**doc["lineItems"][0], "itemNo": "BUMP-1", "productPrice": 10.00})
    return app, doc


def test_a_failure_late_in_intake_leaves_nothing_of_the_notification(make_app):
    """The second item's e-mail (written after the first item's commission) is refused by the
    database: nothing of the notification stays, ClickBank is told to retry (503, not a 200
    'duplicate' that would lose it), and the retry stores it whole."""
    app, doc = _late_bump_cart(make_app)
    client = app.test_client()
    with _refused_outbox_rows(app, "Late Bump"):
        r = post_ins(client, doc)
        assert r.status_code == 503, r.get_data(as_text=True)
        for model in (Order, OrderLineItem, InsNotification, Commission, OutboxMessage):
            assert count_rows(app, model) == 0, model.__name__
    assert post_ins(client, {**doc, "attemptCount": 2}).get_data(as_text=True) == "stored\n"
    assert [c.commission_total for c in _commissions(app)] == [Decimal("5.00"), Decimal("5.00")]


def test_a_failure_late_in_a_sale_whose_refund_came_first_leaves_only_the_refund(make_app):
    """The cart's first item is reversed at once (its refund was stored before the sale); the
    second item's e-mail is then refused: that reversal is not kept on its own either."""
    app, doc = _late_bump_cart(make_app)
    client = app.test_client()
    assert post_ins(client, notification(affiliate="annie", transactionType="RFND")
                    ).status_code == 200
    with _refused_outbox_rows(app, "Late Bump"):
        r = post_ins(client, doc)
        assert r.status_code == 503, r.get_data(as_text=True)
        assert (count_rows(app, Order), count_rows(app, Commission)) == (1, 0)
    assert post_ins(client, {**doc, "attemptCount": 2}).get_data(as_text=True) == "stored\n"
    assert [(c.commission_total, c.status) for c in _commissions(app)] == [
        (Decimal("5.00"), CommissionStatus.REVERSED), (Decimal("5.00"), CommissionStatus.APPROVED)]


# 6. The clawback twin of a paid commission in another currency ---------------------------------

def test_a_paid_eur_commission_charged_back_is_clawed_back_in_eur(make_app, api_key):
    app = make_app(commissions={"require_approval": False, "currency": "EUR"},
                   mail={"enabled": False})
    add_cb_account(app)
    code = add_affiliate(app, code="annie")
    pid = add_product(app, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = app.test_client()
    assert post_ins(client, notification(affiliate="annie", currency="EUR")).status_code == 200
    paid = run_cli(app, "payment", "add", "--affiliate", "annie", "--method", "PayPal",
                   "--amount", "9.99")
    assert paid.exit_code == 0 and "9.99 EUR" in paid.output, paid.output
    assert post_ins(client, notification(affiliate="annie", currency="EUR",
                                         transactionType="CGBK")).status_code == 200
    sale, clawback = _commissions(app)
    assert sale.payment_id is not None and sale.status == CommissionStatus.APPROVED
    assert (clawback.kind, clawback.currency, clawback.commission_total) == (
        CommissionKind.REVERSAL, "EUR", Decimal("-9.99"))
    assert clawback.notes == "ClickBank CGBK ABCD1234"
    assert _totals(app, api_key, code) == {str(pid): {
        "commissions": "0", "sale_total": "0.00", "commission_total": "0.00"}}


# 7. An affiliate who is not approved ------------------------------------------------------------

def test_an_unapproved_affiliate_earns_nothing_from_clickbank_when_approval_is_required(
        make_app):
    app = make_app(commissions={"require_approval": False}, affiliates={"require_approval": True},
                   mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")  # pending: approval is required
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    client = app.test_client()
    assert post_ins(client, notification(affiliate="annie", receipt="R1")).status_code == 200
    assert _commissions(app) == [] and count_rows(app, Order) == 1
    assert run_cli(app, "affiliate", "approve", "annie").exit_code == 0
    assert post_ins(client, notification(affiliate="annie", receipt="R2")).status_code == 200
    assert [c.order_ref for c in _commissions(app)] == ["R2"]


def test_an_unapproved_affiliate_earns_from_clickbank_when_approval_is_not_required(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie", pending=True)
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert post_ins(app.test_client(), notification(affiliate="annie")).status_code == 200
    assert [c.commission_total for c in _commissions(app)] == [Decimal("5.00")]


# 8. A commission equal to its sale total -------------------------------------------------------

def test_an_affiliate_payout_equal_to_the_price_is_credited(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1")  # no rate: ClickBank's affiliatePayout counts
    doc = _item(notification(affiliate="annie"), productPrice=12.00, affiliatePayout=12.00)
    assert post_ins(cb.test_client(), doc).status_code == 200
    [sale] = _commissions(cb)
    assert (sale.sale_total, sale.commission_total) == (Decimal("12.00"), Decimal("12.00"))


def test_an_affiliate_payout_over_the_price_is_not_credited(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1")
    doc = _item(notification(affiliate="annie"), productPrice=12.00, affiliatePayout=12.01)
    assert post_ins(cb.test_client(), doc).status_code == 200
    assert _commissions(cb) == [] and count_rows(cb, Order) == 1


def test_a_sale_whose_commission_the_data_api_recorded_is_not_announced_again(make_app,
                                                                             api_key):
    """Annie's commission for the receipt was recorded through the Data API under the same
    ref: ClickBank's sale is stored, its commission is the one already there, and no second
    commission e-mail is queued for it (intake's insert is refused in a savepoint)."""
    app = make_app(commissions={"require_approval": False},
                   mail={"host": "127.0.0.1", "port": 9, "admin": "admin@shop.example",
                         "from": "affsrv@shop.example"})
    add_cb_account(app)
    code = add_affiliate(app, code="annie", email="annie@aff.example")
    pid = add_product(app, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = app.test_client()
    r = api(client, api_key, code, commission={"product": pid, "saletotal": "49.95",
                                               "commtotal": "9.99", "ref": "ABCD1234"})
    assert r.status_code == 200, r.json
    queued = count_rows(app, OutboxMessage)
    assert queued == 2  # the affiliate's and the admin's e-mail
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    assert count_rows(app, Order) == 1
    assert [(c.order_ref, c.source) for c in _commissions(app)] == [("ABCD1234", "api")]
    assert count_rows(app, OutboxMessage) == queued
