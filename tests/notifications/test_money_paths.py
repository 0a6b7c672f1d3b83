"""Outbound notifications of a clawback: the type names the reason (a chargeback is CGBK), and
each transaction is announced exactly once (docs/money-paths.md)."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import event

from affsrv.extensions import db
from tests.clickbank.support import Receiver, add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import opened, run_due, subscribe


@pytest.fixture
def shop(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_affiliate(app, code="annie")
    return app


@pytest.fixture
def cb_shop(shop):
    """The shop selling Annie's widget through ClickBank (20% commission)."""
    add_cb_account(shop)
    add_product(shop, sku="WIDGET-1", commission_rate=Decimal("20"))
    return shop


def _pay(app, amount: str) -> None:
    paid = run_cli(app, "payment", "add", "--affiliate", "annie", "--method", "PayPal",
                   "--amount", amount)
    assert paid.exit_code == 0, paid.output


def _delivered(app, receiver: Receiver) -> list[dict]:
    while run_due(app):
        pass
    return [opened(body) for body in receiver.bodies]


def test_a_paid_commission_charged_back_by_the_data_api_is_announced_once_as_cgbk(shop, api_key):
    pid = add_product(shop, sku="WIDGET-1")
    merchant = Receiver()
    with merchant.running():
        subscribe(shop, merchant.url)
        client = shop.test_client()
        r = api(client, api_key, "annie", commission={
            "product": pid, "saletotal": "100.00", "commtotal": "10.00", "ref": "A"})
        assert r.status_code == 200, r.json
        _pay(shop, "10.00")
        r = api(client, api_key, "annie", commission={
            "product": pid, "type": "chargeback", "ref": "A"})
        assert r.status_code == 200, r.json
        sent = _delivered(shop, merchant)
    assert [n["transactionType"] for n in sent] == ["SALE", "PAYMENT", "CGBK"]
    clawback = sent[2]
    assert clawback["receipt"] == "A" and clawback["totalOrderAmount"] == Decimal("-100.00")
    assert clawback["lineItems"][0]["affiliatePayout"] == Decimal("-10.00")


def test_a_paid_clickbank_commission_charged_back_is_announced_once(cb_shop):
    """ClickBank's CGBK is announced as the order it is; the clawback it causes adds none."""
    merchant = Receiver()
    with merchant.running():
        subscribe(cb_shop, merchant.url)
        client = cb_shop.test_client()
        assert post_ins(client, notification(affiliate="annie")).status_code == 200
        _pay(cb_shop, "9.99")
        assert post_ins(client, notification(affiliate="annie", transactionType="CGBK")
                        ).status_code == 200
        sent = _delivered(cb_shop, merchant)
    assert [n["transactionType"] for n in sent] == ["SALE", "PAYMENT", "CGBK"]


def test_a_clickbank_sale_whose_refund_came_first_is_announced_as_the_two_orders_it_is(
        cb_shop):
    """The refund reverses the sale the moment it is stored, inside the sale's intake: the
    merchant hears of the two ClickBank orders, not of a third RFND for that reversal."""
    merchant = Receiver()
    with merchant.running():
        subscribe(cb_shop, merchant.url)
        client = cb_shop.test_client()
        for kind in ("RFND", "SALE"):
            assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                            ).status_code == 200
        sent = _delivered(cb_shop, merchant)
    assert [(n["transactionType"], n["receipt"]) for n in sent] == [
        ("RFND", "ABCD1234"), ("SALE", "ABCD1234")]


def test_two_refunds_of_one_sale_at_once_announce_it_once(shop, api_key):
    """A second Data API refund of the sale completes while the first is between its read and
    its update (on SQLite, where the read takes no lock; on PostgreSQL it comes before the
    first's locked read, which would otherwise wait for it): the sale is reversed and
    announced once, not once per refund."""
    pid = add_product(shop, sku="WIDGET-1")
    merchant = Receiver()
    with shop.app_context():
        engine = db.engine
        on_sqlite = engine.dialect.name == "sqlite"
    first, second = threading.current_thread(), []
    refund = {"product": pid, "type": "refund", "ref": "A"}

    def refund_again():
        second.append(api(shop.test_client(), api_key, "annie", commission=refund))

    def second_refund_meanwhile(conn, cursor, statement, *_):
        wanted = (statement.lstrip().startswith("UPDATE commissions") if on_sqlite
                  else "FOR UPDATE" in statement and "commissions" in statement)
        if threading.current_thread() is first and not second and wanted:
            other = threading.Thread(target=refund_again)
            other.start()
            other.join(timeout=60)

    with merchant.running():
        subscribe(shop, merchant.url)
        client = shop.test_client()
        r = api(client, api_key, "annie", commission={
            "product": pid, "saletotal": "100.00", "commtotal": "10.00", "ref": "A"})
        assert r.status_code == 200, r.json
        event.listen(engine, "before_cursor_execute", second_refund_meanwhile)
        try:
            r = api(client, api_key, "annie", commission=refund)
        finally:
            event.remove(engine, "before_cursor_execute", second_refund_meanwhile)
        sent = _delivered(shop, merchant)
    assert r.status_code == 200 and r.json["commission_status"] == "reversed", r.json
    assert [s.status_code for s in second] == [200]
    assert [n["transactionType"] for n in sent] == ["SALE", "RFND"]
