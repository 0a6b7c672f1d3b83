"""A refund of a paid ClickBank sale is a clawback (a negative commission) and the sale stays
paid: the clawback counts as the refund applied, so a rebill of the receipt that follows
earns its own commission."""

from decimal import Decimal

from sqlalchemy import select

from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product


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
    with app.app_context():
        rows = db.session.execute(select(
            Commission.kind, Commission.status, Commission.order_ref,
            Commission.commission_total, Commission.payment_id.is_not(None),
        ).order_by(Commission.id)).all()
    assert [tuple(r) for r in rows] == [
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234", Decimal("9.99"), True),
        (CommissionKind.REVERSAL, CommissionStatus.APPROVED, "ABCD1234", Decimal("-9.99"),
         False),
        (CommissionKind.SALE, CommissionStatus.APPROVED, "ABCD1234/BILL", Decimal("9.99"),
         False),
    ]
