"""A ClickBank sale naming a SKU affsrv has never seen: its product is created from the
notification and the commission credited, unless the account refuses unknown SKUs; then
`affsrv clickbank reapply` credits it once the merchant has added the product."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.commissions.models import Commission, CommissionStatus
from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem
from affsrv.products.models import Product
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, count_rows, log_records

LANDING = "https://landing.example/"


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   tracking={"default_url": LANDING})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    return app


def _commissions(app):
    with app.app_context():
        rows = list(db.session.scalars(select(Commission).order_by(Commission.id)))
        db.session.expunge_all()
        return rows


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def _refuse(app):
    out = _ok(run_cli(app, "account", "set", "myvendor", "--unknown-skus", "refuse"))
    assert "unknown SKUs refused" in out


def test_an_unknown_sku_creates_its_product_and_earns_by_the_usual_rule(cb):
    client = cb.test_client()
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    with cb.app_context():
        [product] = db.session.scalars(select(Product)).all()
        assert (product.sku, product.name, product.landing_url, product.created_by) == (
            "WIDGET-1", "The Widget Course", LANDING, "clickbank")
        assert product.enabled and product.commission_rate is None
        [item] = db.session.scalars(select(OrderLineItem)).all()
        assert item.product_id == product.id
    # No rate of its own: ClickBank's affiliatePayout, as for any product without one.
    [sale] = _commissions(cb)
    assert (sale.commission_total, sale.sale_total, sale.order_ref) == (
        Decimal("12.00"), Decimal("49.95"), "ABCD1234")
    assert log_records(cb, "commission")[0]["event"] == "ins: product created for an unknown SKU"
    listed = _ok(run_cli(cb, "product", "list")).splitlines()
    assert "created by" in listed[0]
    assert any("WIDGET-1" in line and line.rstrip().endswith("clickbank") for line in listed)
    # Seen again: the same product, a second commission for the second receipt.
    assert post_ins(client, notification(affiliate="annie", receipt="SECOND01")).status_code == 200
    assert count_rows(cb, Product) == 1 and len(_commissions(cb)) == 2


def test_a_cart_creates_the_products_it_lacks_after_one_it_has(cb):
    known = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    doc = notification(affiliate="annie")
    doc["lineItems"].append({**doc["lineItems"][0], "itemNo": "BUMP-1", "productPrice": 10.00,
                             "productTitle": "The Bump", "affiliatePayout": 3.00})
    assert post_ins(cb.test_client(), doc).status_code == 200
    with cb.app_context():
        bump = db.session.scalar(select(Product).where(Product.sku == "BUMP-1"))
        assert (bump.name, bump.created_by) == ("The Bump", "clickbank")
        assert db.session.get(Product, known).created_by is None
    assert [c.commission_total for c in _commissions(cb)] == [Decimal("9.99"), Decimal("3.00")]
    [created] = [r for r in log_records(cb, "commission") if r["event"].startswith("ins: product")]
    assert {k: created[k] for k in ("account", "receipt", "item", "product")} == {
        "account": "myvendor", "receipt": "ABCD1234", "item": "BUMP-1", "product": bump.id}


def test_a_product_is_created_even_without_an_affiliate_and_named_by_its_sku(cb):
    doc = notification(affiliate="")
    doc["lineItems"][0]["productTitle"] = None
    assert post_ins(cb.test_client(), doc).status_code == 200
    with cb.app_context():
        assert db.session.scalar(select(Product.name)) == "WIDGET-1"
    assert _commissions(cb) == []


@pytest.mark.parametrize("kind", ["TEST_SALE", "RFND"])
def test_test_sales_and_reversals_create_no_product(cb, kind):
    assert post_ins(cb.test_client(), notification(affiliate="annie", transactionType=kind)
                    ).status_code == 200
    assert count_rows(cb, Product) == 0 and count_rows(cb, Order) == 1


def test_merchant_products_are_listed_as_the_merchants(cb):
    add_product(cb, sku="OWN-1")
    listed = _ok(run_cli(cb, "product", "list")).splitlines()
    assert any("OWN-1" in line and line.rstrip().endswith("merchant") for line in listed)


def test_an_account_refusing_unknown_skus_stores_the_order_only(cb):
    listed = _ok(run_cli(cb, "account", "list"))
    assert "unknown SKUs" in listed and "create product" in listed
    _refuse(cb)
    assert "refused" in _ok(run_cli(cb, "account", "list"))
    assert post_ins(cb.test_client(), notification(affiliate="annie")).status_code == 200
    assert count_rows(cb, Product) == 0 and count_rows(cb, Order) == 1
    assert _commissions(cb) == []
    assert log_records(cb, "commission")[-1]["event"] == (
        "ins: no product with this SKU; no commission")
    _ok(run_cli(cb, "account", "set", "myvendor", "--unknown-skus", "create"))
    assert "create product" in _ok(run_cli(cb, "account", "list"))


def test_setting_an_unknown_account_is_refused(cb):
    result = run_cli(cb, "account", "set", "nobody", "--unknown-skus", "refuse")
    assert result.exit_code == 1 and "unknown account 'nobody'" in result.output


def test_reapply_credits_a_receipt_once_its_product_exists(cb):
    _refuse(cb)
    client = cb.test_client()
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    assert post_ins(client, notification(affiliate="annie", receipt="OTHER001")
                    ).status_code == 200
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert out.startswith("0 line items of 0 orders")  # no product yet: nothing to do
    _ok(run_cli(cb, "product", "add", "--name", "Widget", "--url", "https://shop.example/w",
                "--sku", "WIDGET-1", "--rate", "20"))
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert out == "1 line items of 1 orders found their product; 1 commissions recorded\n"
    [sale] = _commissions(cb)
    assert (sale.order_ref, sale.commission_total) == ("ABCD1234", Decimal("9.99"))
    # Twice: credited once.
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert out == "0 line items of 0 orders found their product; 0 commissions recorded\n"
    assert len(_commissions(cb)) == 1
    # The other receipt's order is left for its own run.
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "OTHER001"))
    assert "1 commissions recorded" in out
    assert [c.order_ref for c in _commissions(cb)] == ["ABCD1234", "OTHER001"]


def test_reapply_applies_a_refund_stored_before_the_product(cb):
    _refuse(cb)
    client = cb.test_client()
    for kind in ("SALE", "RFND", "BILL"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert out == "3 line items of 3 orders found their product; 2 commissions recorded\n"
    assert [(c.order_ref, c.status) for c in _commissions(cb)] == [
        ("ABCD1234", CommissionStatus.REVERSED), ("ABCD1234/BILL", CommissionStatus.APPROVED)]
    _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert len(_commissions(cb)) == 2


def test_reapply_over_a_date_range(cb):
    _refuse(cb)
    client = cb.test_client()
    for receipt, when in (("MARCH001", "2024-03-05T19:00:00-05:00"),  # 6 March 0:00 UTC
                          ("MARCH002", "2024-03-09T23:59:59+00:00"),
                          ("LATER001", "2024-03-10T00:00:00+00:00")):
        assert post_ins(client, notification(affiliate="annie", receipt=receipt,
                                             transactionTime=when)).status_code == 200
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    out = _ok(run_cli(cb, "clickbank", "reapply", "--from", "2024-03-06", "--to", "2024-03-09"))
    assert "2 commissions recorded" in out
    assert [c.order_ref for c in _commissions(cb)] == ["MARCH001", "MARCH002"]
    out = _ok(run_cli(cb, "clickbank", "reapply", "--from", "2024-03-01"))
    assert "1 commissions recorded" in out
    _ok(run_cli(cb, "clickbank", "reapply", "--to", "2024-12-31"))
    assert [c.order_ref for c in _commissions(cb)] == ["MARCH001", "MARCH002", "LATER001"]


def test_reapply_needs_a_receipt_or_dates(cb):
    result = run_cli(cb, "clickbank", "reapply")
    assert result.exit_code == 2 and "--receipt" in result.output
    result = run_cli(cb, "clickbank", "reapply", "--from", "2024-03-09", "--to", "2024-03-01")
    assert result.exit_code == 2 and "--to is before --from" in result.output


def test_two_sales_of_one_new_sku_arriving_together_create_one_product(cb):
    """Two receipts naming the same new SKU at the same moment: one creates the product, the
    other's insert is refused by the unique SKU, intake looks again and finds it. (PostgreSQL's
    case: SQLite runs one writer at a time.)"""
    import threading

    from tests.clickbank.support import encrypt

    for n in range(5):
        sku = f"NEW-{n}"
        bodies = []
        for receipt in (f"TWIN{n}A", f"TWIN{n}B"):
            doc = notification(affiliate="annie", receipt=receipt)
            doc["lineItems"][0]["itemNo"] = sku
            bodies.append(encrypt(doc))
        barrier, answers = threading.Barrier(2), []

        def post(body, barrier=barrier, answers=answers):
            client = cb.test_client()
            barrier.wait(timeout=10)
            answers.append(client.post("/ins/clickbank/myvendor", json=body).status_code)

        threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert answers == [200, 200], (sku, answers)
        with cb.app_context():
            assert db.session.scalar(
                select(func.count()).select_from(Product).where(Product.sku == sku)) == 1
    assert len(_commissions(cb)) == 10


def test_reapply_takes_a_receipts_orders_in_the_order_they_arrived(cb):
    """Sale, refund, rebill, then ClickBank sends the sale again with an item it lacked: the
    sale's order is updated (now physical), and PostgreSQL, scanning orders unasked, would
    give it after the others. Reapply must still take the sale first: the refund reverses the
    sale, and the rebill (priced differently) earns; taken last, the sale would stand and the
    rebill be reversed."""
    _refuse(cb)
    client = cb.test_client()
    digital = {"shippable": False}
    for kind, price in (("SALE", 49.95), ("RFND", 49.95), ("BILL", 29.95)):
        doc = notification(affiliate="annie", transactionType=kind)
        doc["lineItems"][0].update(digital, productPrice=price)
        assert post_ins(client, doc).status_code == 200
    again = notification(affiliate="annie")
    again["lineItems"][0].update(digital)
    again["lineItems"].append({**again["lineItems"][0], "itemNo": "BOOK-1", "shippable": True})
    assert post_ins(client, again).status_code == 200
    with cb.app_context():
        assert db.session.scalars(select(Order.physical).order_by(Order.id)).all() == [
            True, False, False]
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    out = _ok(run_cli(cb, "clickbank", "reapply", "--receipt", "ABCD1234"))
    assert out == "3 line items of 3 orders found their product; 2 commissions recorded\n"
    assert [(c.order_ref, c.commission_total, c.status) for c in _commissions(cb)] == [
        ("ABCD1234", Decimal("9.99"), CommissionStatus.REVERSED),
        ("ABCD1234/BILL", Decimal("5.99"), CommissionStatus.APPROVED)]
