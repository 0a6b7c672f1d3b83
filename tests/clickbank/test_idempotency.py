"""Retries and racing twins store one transaction and count one commission."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.clickbank.models import InsNotification
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.notifications.models import OutboxMessage
from affsrv.orders.models import Order, OrderLineItem
from tests.clickbank.support import add_cb_account, encrypt, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"admin": "boss@shop.example"})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    return app


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_retry_changes_nothing_and_is_answered_200(cb):
    assert run_cli(cb, "notify", "add", "--url", "http://127.0.0.1:9/x",
                   "--secret-key", "ABC123").exit_code == 0
    client = cb.test_client()
    first = post_ins(client, notification(affiliate="annie"))
    assert first.status_code == 200 and first.text.strip() == "stored"
    before = {m: _count(cb, m) for m in (Order, OrderLineItem, InsNotification, Commission,
                                         OutboxMessage)}
    assert before == {Order: 1, OrderLineItem: 1, InsNotification: 1, Commission: 1,
                      OutboxMessage: 3}  # one notification, the affiliate's and admin's mail
    for attempt in (2, 3):
        again = post_ins(client, notification(affiliate="annie", attemptCount=attempt))
        assert again.status_code == 200 and again.text.strip().startswith("duplicate")
    assert {m: _count(cb, m) for m in before} == before


def test_same_receipt_other_type_is_a_new_transaction(cb):
    client = cb.test_client()
    post_ins(client, notification(affiliate="annie"))
    post_ins(client, notification(affiliate="annie", transactionType="RFND"))
    assert _count(cb, Order) == 2


def test_racing_duplicates_make_one_transaction(cb):
    body = encrypt(notification(affiliate="annie"))
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        client = cb.test_client()  # each request pushes its own app context
        barrier.wait(timeout=10)
        r = client.post("/ins/clickbank/myvendor", json=body)
        results.append((r.status_code, r.text.strip()))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4 and all(code == 200 for code, _ in results), results
    assert sorted(text for _, text in results).count("stored") == 1
    assert (_count(cb, Order), _count(cb, OrderLineItem), _count(cb, Commission),
            _count(cb, InsNotification)) == (1, 1, 1, 1)
