"""A refund of a paid ClickBank sale is a clawback (a negative commission) and the sale stays
paid: the clawback counts as the refund applied, so a rebill of the receipt that follows
earns its own commission."""

import threading
from decimal import Decimal

from sqlalchemy import event, select

from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product


def _ledger_rows(app):
    """Every commission as (kind, status, ref, amount, paid), in the order stored."""
    with app.app_context():
        return [tuple(r) for r in db.session.execute(select(
            Commission.kind, Commission.status, Commission.order_ref,
            Commission.commission_total, Commission.payment_id.is_not(None),
        ).order_by(Commission.id))]

def test_a_rebill_after_a_paid_sale_was_clawed_back_earns_its_commission(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = app.test_client()
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    paid = run_cli(app, "payment", "add", "--affiliate", "annie", "--method", "PayPal",
                   "--amount", "9.99")
    assert paid.exit_code == 0, paid.output
    for kind in ("RFND", "BILL"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    assert _ledger_rows(app) == [
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234", Decimal("9.99"), True),
        (CommissionKind.REVERSAL, CommissionStatus.APPROVED, "ABCD1234", Decimal("-9.99"),
         False),
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234/BILL", Decimal("9.99"),
         False),
    ]
    with app.app_context():
        # The clawback is ClickBank's, as its sale is (not the column's default, "api").
        assert db.session.scalars(select(Commission.source).order_by(Commission.id)).all() == [
            "clickbank"] * 3


def test_a_refund_claws_back_a_rebill_paid_while_the_refund_was_being_applied(make_app):
    """Intake of a refund reads the rebill (standing, unpaid), and a payout settles it before
    intake locks it to reverse it: the locked read sees it paid, and the refund claws it back
    (a stale copy would take it for unpaid, fail to reverse it twice and lose the refund).
    PostgreSQL's case; on SQLite intake holds the one write lock from its first insert, the
    payout cannot come between, so it comes before the refund."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = app.test_client()
    for kind in ("SALE", "BILL"):
        assert post_ins(client, notification(affiliate="annie", transactionType=kind)
                        ).status_code == 200
    paid = []

    def pay():
        paid.append(run_cli(app, "payment", "add", "--affiliate", "annie", "--method",
                            "PayPal", "--amount", "19.98"))

    with app.app_context():
        engine, dialect = db.engine, db.engine.dialect.name
    intake = threading.current_thread()

    def payout_before_the_locked_read(conn, cursor, statement, *_):
        if (threading.current_thread() is intake and not paid
                and "FOR UPDATE" in statement and "commissions" in statement):
            payer = threading.Thread(target=pay)
            payer.start()
            payer.join(timeout=60)

    if dialect == "sqlite":
        pay()
    else:
        event.listen(engine, "before_cursor_execute", payout_before_the_locked_read)
    try:
        assert post_ins(client, notification(affiliate="annie", transactionType="RFND")
                        ).status_code == 200
    finally:
        if dialect != "sqlite":
            event.remove(engine, "before_cursor_execute", payout_before_the_locked_read)
    assert [p.exit_code for p in paid] == [0], [p.output for p in paid]
    assert _ledger_rows(app) == [
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234", Decimal("9.99"), True),
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234/BILL", Decimal("9.99"),
         True),
        (CommissionKind.REVERSAL, CommissionStatus.APPROVED, "ABCD1234/BILL",
         Decimal("-9.99"), False),
    ]
