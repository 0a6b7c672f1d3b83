"""Outbound instant notifications reach a real receiver, encrypted as ClickBank does, and are
retried with growing back-off and a higher attemptCount."""

from datetime import timedelta
from decimal import Decimal

import pytest

from affsrv.affiliates.services import get_affiliate
from affsrv.clickbank.crypto import InsCryptoError
from affsrv.db.types import utcnow
from affsrv.notifications.models import OutboxStatus
from affsrv.notifications.services import claim_due
from affsrv.payments.services import record_payment
from tests.clickbank.support import (
    Receiver,
    add_cb_account,
    closed_port,
    notification,
    post_ins,
    run_cli,
)
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import KEY, messages, opened, run_due, subscribe


@pytest.fixture
def shop(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_affiliate(app, code="annie")
    add_affiliate(app, code="bert")
    return app


def _sale(app, key, code, pid, ref="ORD-1", saletotal="100.00", commtotal="10.00"):
    r = api(app.test_client(), key, code, commission={
        "product": pid, "saletotal": saletotal, "commtotal": commtotal, "ref": ref})
    assert r.status_code == 200, r.json
    return r


def test_commission_notification_is_retried_with_higher_attempt_count(shop, api_key):
    pid = add_product(shop, sku="WIDGET-1")
    receiver = Receiver(statuses=[500])
    with receiver.running():
        added = run_cli(shop, "notify", "add", "--url", receiver.url, "--secret-key", KEY)
        assert added.exit_code == 0, added.output
        _sale(shop, api_key, "annie", pid)
        assert run_due(shop) == 1
        [message] = messages(shop)
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
        assert "HTTP 500" in message.last_error
        wait = message.next_attempt_at - utcnow()
        assert timedelta(seconds=15) < wait < timedelta(seconds=60)  # first retry within 1 min
        assert run_due(shop) == 0  # not due yet
        assert run_due(shop, now=utcnow() + timedelta(seconds=61)) == 1
        [message] = messages(shop)
        assert message.status == OutboxStatus.DELIVERED and message.delivered_at is not None
    first, second = (opened(body) for body in receiver.bodies)
    assert (first["attemptCount"], second["attemptCount"]) == (1, 2)
    del first["attemptCount"], second["attemptCount"]
    assert first == second
    assert first["transactionType"] == "SALE" and first["receipt"] == "ORD-1"
    assert first["affiliate"] == "annie" and first["role"] == "VENDOR"
    assert first["version"] == Decimal("6.0") and first["vendor"] == "affsrv"
    assert first["totalOrderAmount"] == Decimal("100.00")
    assert first["totalAccountAmount"] == Decimal("90.00")
    [item] = first["lineItems"]
    assert (item["itemNo"], item["affiliatePayout"], item["productPrice"]) == (
        "WIDGET-1", Decimal("10.00"), Decimal("100.00"))
    with pytest.raises((InsCryptoError, ValueError)):
        opened(receiver.bodies[0], key="SOMEOTHERKEY")


def test_backoff_grows_and_gives_up_after_max_attempts(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   notifications={"max_attempts": 3, "first_retry_seconds": 10})
    code = add_affiliate(app, code="annie")
    pid = add_product(app)
    receiver = Receiver(statuses=[503, 503, 503, 503])
    with receiver.running():
        subscribe(app, receiver.url)
        _sale(app, api_key, code, pid)
        now, waits = utcnow(), []
        for _ in range(3):
            assert run_due(app, now=now) == 1
            [message] = messages(app)
            waits.append(message.next_attempt_at - now)
            now = message.next_attempt_at + timedelta(seconds=1)
        assert run_due(app, now=now + timedelta(days=1)) == 0
    [message] = messages(app)
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert len(receiver.bodies) == 3
    assert [opened(b)["attemptCount"] for b in receiver.bodies] == [1, 2, 3]
    # 10 s then 20 s (each +-20%).
    assert timedelta(seconds=7) < waits[0] < timedelta(seconds=13)
    assert timedelta(seconds=15) < waits[1] < timedelta(seconds=25)
    log = run_cli(app, "notify", "log", "--status", "failed")
    assert log.exit_code == 0 and "HTTP 503" in log.output and "failed" in log.output
    assert run_cli(app, "notify", "retry", "--all").output.startswith("1 message")
    with Receiver().running() as again:
        with app.app_context():
            from affsrv.extensions import db
            from affsrv.notifications.models import Subscription
            db.session.get(Subscription, message.subscription_id).url = again.url
            db.session.commit()
        assert run_due(app) == 1
    assert messages(app)[0].status == OutboxStatus.DELIVERED


def test_receiver_down_then_back_and_affsrv_restarted_loses_nothing(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code = add_affiliate(app, code="annie")
    pid = add_product(app)
    port = closed_port()
    subscribe(app, f"http://127.0.0.1:{port}/ins")  # nothing listens: refused
    _sale(app, api_key, code, pid)
    assert run_due(app) == 1
    assert "ConnectionError" in messages(app)[0].last_error
    restarted = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    receiver = Receiver(port=port)
    with receiver.running():
        assert run_due(restarted, now=utcnow() + timedelta(minutes=2)) == 1
    assert [opened(b)["attemptCount"] for b in receiver.bodies] == [2]
    assert messages(restarted)[0].status == OutboxStatus.DELIVERED


def test_crashed_worker_claim_is_taken_over_after_its_lease(shop, api_key):
    pid = add_product(shop)
    receiver = Receiver()
    with receiver.running():
        subscribe(shop, receiver.url)
        _sale(shop, api_key, "annie", pid)
        with shop.app_context():
            assert len(claim_due().ids) == 1  # a worker claims it, then dies
        assert run_due(shop) == 0  # still leased to the dead worker
        assert run_due(shop, now=utcnow() + timedelta(hours=1)) == 1
    assert [opened(b)["attemptCount"] for b in receiver.bodies] == [2]


def test_refund_and_chargeback_send_rfnd_and_cgbk(shop, api_key):
    pid = add_product(shop)
    receiver = Receiver()
    with receiver.running():
        subscribe(shop, receiver.url)
        _sale(shop, api_key, "annie", pid, ref="A")
        _sale(shop, api_key, "annie", pid, ref="B")
        client = shop.test_client()
        for ref, kind in (("A", "refund"), ("B", "chargeback")):
            r = api(client, api_key, "annie", commission={"product": pid, "type": kind,
                                                          "ref": ref})
            assert r.status_code == 200, r.json
        while run_due(shop):
            pass
    sent = [opened(b) for b in receiver.bodies]
    assert [(n["transactionType"], n["receipt"]) for n in sent] == [
        ("SALE", "A"), ("SALE", "B"), ("RFND", "A"), ("CGBK", "B")]
    assert sent[2]["totalOrderAmount"] == Decimal("-100.00")
    assert sent[2]["lineItems"][0]["affiliatePayout"] == Decimal("-10.00")


def test_payment_is_sent_to_merchant_and_that_affiliate(shop):
    merchant, annie, bert = Receiver(), Receiver(), Receiver()
    with merchant.running(), annie.running(), bert.running():
        subscribe(shop, merchant.url)
        subscribe(shop, annie.url, affiliate_code="annie")
        subscribe(shop, bert.url, affiliate_code="bert")
        with shop.app_context():
            record_payment(get_affiliate("annie"), method="PayPal", amount="24.66",
                           reference="TX-9")
        while run_due(shop):
            pass
    [to_merchant] = [opened(b) for b in merchant.bodies]
    [to_annie] = [opened(b) for b in annie.bodies]
    assert bert.bodies == []
    assert to_merchant["transactionType"] == "PAYMENT" == to_annie["transactionType"]
    assert to_annie["role"] == "AFFILIATE" and to_annie["totalAccountAmount"] == Decimal("24.66")
    assert to_merchant["paymentMethod"] == "PayPal"


def test_per_affiliate_and_per_product_subscriptions_get_only_theirs(shop, api_key):
    widget = add_product(shop, sku="WIDGET-1")
    gadget = add_product(shop, name="Gadget", sku="GADGET-1")
    merchant, annie, gadgets = Receiver(), Receiver(), Receiver()
    with merchant.running(), annie.running(), gadgets.running():
        subscribe(shop, merchant.url)
        subscribe(shop, annie.url, key="ANNIEKEY", affiliate_code="annie")
        subscribe(shop, gadgets.url, key="GADGETKEY", product_id=gadget)
        _sale(shop, api_key, "annie", widget, ref="1")
        _sale(shop, api_key, "bert", gadget, ref="2")
        _sale(shop, api_key, "bert", widget, ref="3")
        while run_due(shop):
            pass
    assert sorted(opened(b)["receipt"] for b in merchant.bodies) == ["1", "2", "3"]
    assert [opened(b, "ANNIEKEY")["receipt"] for b in annie.bodies] == ["1"]
    assert opened(annie.bodies[0], "ANNIEKEY")["role"] == "AFFILIATE"
    assert opened(annie.bodies[0], "ANNIEKEY")["totalAccountAmount"] == Decimal("10.00")
    assert [opened(b, "GADGETKEY")["receipt"] for b in gadgets.bodies] == ["2"]


def test_clickbank_intake_is_forwarded_with_the_customer(shop):
    add_cb_account(shop)
    add_product(shop, sku="WIDGET-1", commission_rate=Decimal("10"))
    merchant, annie = Receiver(), Receiver()
    with merchant.running(), annie.running():
        subscribe(shop, merchant.url)
        subscribe(shop, annie.url, affiliate_code="annie")
        assert post_ins(shop.test_client(), notification(affiliate="annie")).status_code == 200
        assert post_ins(shop.test_client(), notification(
            affiliate="annie", transactionType="RFND")).status_code == 200
        while run_due(shop):
            pass
    # One notification per transaction (the commission does not add a second one).
    full = [opened(b) for b in merchant.bodies]
    assert [n["transactionType"] for n in full] == ["SALE", "RFND"]
    sale = full[0]
    assert sale["receipt"] == "ABCD1234" and sale["vendor"] == "myvendor"
    assert sale["transactionTime"] == "2024-03-05T14:30:00-05:00"
    assert sale["customer"]["billing"]["email"] == "mary@billing.example"
    assert sale["customer"]["shipping"]["address"]["city"] == "Boise"
    assert sale["trackingCodes"] == ["fb-ads", "spring"]
    assert sale["vendorVariables"] == {"v1": "campaign-7", "tid": "abc"}
    assert sale["lineItems"][0]["productPrice"] == Decimal("49.95")
    assert sale["totalAccountAmount"] == Decimal("40.05")
    # The affiliate learns where the buyer is, not who.
    affiliate_view = opened(annie.bodies[0])
    assert affiliate_view["role"] == "AFFILIATE"
    assert affiliate_view["customer"]["billing"] == {
        "address": {"state": "CO", "postalCode": "80202", "country": "US"}}
    assert affiliate_view["totalAccountAmount"] == Decimal("12.00")


def test_redirect_and_silence_are_failed_tries(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   notifications={"timeout_seconds": 1})
    code = add_affiliate(app, code="annie")
    pid = add_product(app)
    redirecting = Receiver(statuses=[302])
    silent = Receiver()  # listening but never answering
    with redirecting.running():
        subscribe(app, redirecting.url)
        subscribe(app, silent.url, key="SILENTKEY")
        _sale(app, api_key, code, pid)
        assert run_due(app) == 2
    errors = sorted(m.last_error for m in messages(app))
    assert errors[0].startswith("HTTP 302") and errors[1].startswith("ReadTimeout")
    assert {m.status for m in messages(app)} == {OutboxStatus.PENDING}
    silent.server.server_close()


def test_vendor_variables_named_like_amounts_stay_text(shop):
    add_cb_account(shop)
    receiver = Receiver()
    with receiver.running():
        subscribe(shop, receiver.url)
        doc = notification(vendorVariables={"productPrice": "cheap", "version": "x1"})
        assert post_ins(shop.test_client(), doc).status_code == 200
        assert run_due(shop) == 1
    [sent] = [opened(b) for b in receiver.bodies]
    assert sent["vendorVariables"] == {"productPrice": "cheap", "version": "x1"}
    assert sent["version"] == Decimal("6.0")
