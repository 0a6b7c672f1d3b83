"""Notifications of one receipt that arrive at the same moment (a sale being retried while its
refund comes, say) are stored one after the other: a refund is never lost to a sale it could
not see yet. (SQLite runs one writer at a time; this is PostgreSQL's case.)"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, encrypt, notification
from tests.helpers import add_affiliate, add_product

RECEIPTS = 20


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
    return app


def _post_at_once(app, bodies: list[dict[str, str]]) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, str]] = []

    def post(body: dict[str, str]) -> None:
        client = app.test_client()  # each request pushes its own app context
        barrier.wait(timeout=10)
        answer = client.post("/ins/clickbank/myvendor", json=body)
        answers.append((answer.status_code, answer.text.strip()))

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_sale_and_its_reversal_arriving_together_leave_the_commission_reversed(cb):
    lost = []
    for n in range(RECEIPTS):
        receipt = f"RACE{n:04d}"
        reversal = "RFND" if n % 2 else "CGBK"
        answers = _post_at_once(cb, [
            encrypt(notification(affiliate="annie", receipt=receipt)),
            encrypt(notification(affiliate="annie", receipt=receipt, transactionType=reversal)),
        ])
        assert sorted(answers) == [(200, "stored"), (200, "stored")], (receipt, answers)
        with cb.app_context():
            commissions = db.session.execute(
                select(Commission.kind, Commission.status).where(Commission.order_ref == receipt)
            ).all()
        if commissions != [(CommissionKind.SALE, CommissionStatus.REVERSED)]:
            lost.append((receipt, reversal, commissions))
    assert lost == [], f"{len(lost)} of {RECEIPTS} reversals lost, e.g. {lost[:2]}"
