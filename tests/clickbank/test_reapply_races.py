"""`affsrv clickbank reapply` and intake never work on one receipt at the same time: a refund
being stored while a reapply credits its sale would otherwise find no commission to reverse,
and the sale no refund to apply."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from affsrv.clickbank.services import reapply_commissions
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from affsrv.signals import commission_recorded, order_recorded
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product

HOLD_SECONDS = 3


def test_a_reapply_waits_for_intake_of_the_same_receipt(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    assert run_cli(app, "account", "set", "myvendor", "--unknown-skus", "refuse").exit_code == 0
    assert post_ins(app.test_client(), notification(affiliate="annie")).status_code == 200
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))  # registered late

    refund_inside, release = threading.Event(), threading.Event()

    def hold_refund(order, **_):  # intake of the refund, inside its transaction
        if order.transaction_type == "RFND":
            refund_inside.set()
            release.wait(timeout=60)

    answers, reapplied = [], []

    def refund():
        answers.append(post_ins(app.test_client(),
                                notification(affiliate="annie", transactionType="RFND")))

    def reapply():
        with app.app_context():
            reapplied.append(reapply_commissions(receipt="ABCD1234"))

    with order_recorded.connected_to(hold_refund):
        intake = threading.Thread(target=refund)
        intake.start()
        try:
            assert refund_inside.wait(timeout=60)
            rerun = threading.Thread(target=reapply)
            rerun.start()
            rerun.join(timeout=HOLD_SECONDS)
            assert rerun.is_alive(), "reapply ran while intake was storing the same receipt"
        finally:
            release.set()
            intake.join(timeout=60)
        rerun.join(timeout=60)
    assert [a.status_code for a in answers] == [200]
    assert [(r.orders, r.items, r.commissions) for r in reapplied] == [(1, 1, 1)]
    with app.app_context():
        assert db.session.execute(select(Commission.kind, Commission.status)).all() == [
            (CommissionKind.SALE, CommissionStatus.REVERSED)]


def test_a_reapply_goes_on_past_a_receipt_another_reapply_credited_meanwhile(make_app):
    """Two runs: the first, of one receipt, is inside its transaction when the second (of a
    date range) lists that receipt and another, and waits for the first receipt's lock. When
    it gets the lock the first receipt is credited already: it skips it and credits the
    other one (it does not stop there)."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    assert run_cli(app, "account", "set", "myvendor", "--unknown-skus", "refuse").exit_code == 0
    for receipt in ("FIRST001", "SECOND02"):
        assert post_ins(app.test_client(), notification(affiliate="annie", receipt=receipt)
                        ).status_code == 200
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))  # registered late

    first_inside, release = threading.Event(), threading.Event()
    first_thread: list[threading.Thread] = []

    def hold_first(commission, **_):  # the first run, inside its transaction
        if threading.current_thread() in first_thread:
            first_inside.set()
            release.wait(timeout=60)

    results: dict[str, object] = {}

    def reapply(name, **which):
        with app.app_context():
            results[name] = reapply_commissions(**which)

    with commission_recorded.connected_to(hold_first):
        first = threading.Thread(target=reapply, args=("first",), kwargs={"receipt": "FIRST001"})
        first_thread.append(first)
        first.start()
        try:
            assert first_inside.wait(timeout=60)
            second = threading.Thread(target=reapply, args=("second",),
                                      kwargs={"start": datetime(2024, 3, 1, tzinfo=UTC)})
            second.start()
            second.join(timeout=HOLD_SECONDS)
            assert second.is_alive(), "the second run did not wait for the first's receipt"
        finally:
            release.set()
            first.join(timeout=60)
        second.join(timeout=60)
    # Each run says what it did itself: one order, one item, one commission (the second run
    # counted the first's commission as its own, and on SQLite its order and item too).
    assert [(r.orders, r.items, r.commissions) for r in (results["first"], results["second"])
            ] == [(1, 1, 1), (1, 1, 1)]
    with app.app_context():
        assert db.session.execute(select(Commission.order_ref, Commission.status)
                                  .order_by(Commission.order_ref)).all() == [
            ("FIRST001", CommissionStatus.APPROVED), ("SECOND02", CommissionStatus.APPROVED)]
