"""Recording payouts to affiliates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, bindparam, select

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.commissions.services import ledger_currency
from affsrv.db.functions import unix_seconds
from affsrv.db.reads import all_rows
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.payments.models import Payment, PaymentTotal
from affsrv.payments.schemas import PaymentCreateSchema
from affsrv.signals import payment_recorded
from affsrv.validation import format_errors

_create_schema = PaymentCreateSchema()


def record_payment(affiliate: Affiliate, **data: Any) -> Payment:
    """Record a payout and mark the affiliate's approved, unpaid commissions in its currency as
    paid, oldest first, as far as the amount covers them whole. A paid commission that is
    later refunded is clawed back with a negative commission instead of being reversed."""
    try:
        values = _create_schema.load({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    payment = Payment(
        affiliate_id=affiliate.id,
        method=values["method"],
        amount=values["amount"],
        reference=values["reference"],
        currency=values["currency"] or ledger_currency(),
    )
    db.session.add(payment)
    db.session.flush()
    remaining: Decimal = values["amount"]
    unpaid = db.session.scalars(
        select(Commission)
        .where(
            Commission.affiliate_id == affiliate.id,
            Commission.status == CommissionStatus.APPROVED,
            Commission.kind == CommissionKind.SALE,
            Commission.payment_id.is_(None),
            Commission.currency == payment.currency,
        )
        .order_by(Commission.created_at, Commission.id)
        .with_for_update()
    )
    for commission in unpaid:
        if commission.commission_total > remaining:
            break
        commission.payment_id = payment.id
        remaining -= commission.commission_total
    payment_recorded.send(payment)
    db.session.commit()
    return payment


_T = PaymentTotal.__table__.c  # Core columns: no ORM compile step on the hot path
# Built once (the Data API asks for it on every `payments` call): a few rows by key, however
# many payouts the affiliate has (payments.totals keeps them).
_TOTALS = (
    select(_T.method, _T.payments, _T.total, unix_seconds(_T.last_at))
    .where(_T.affiliate_id == bindparam("affiliate_id"), _T.currency == bindparam("currency"),
           _T.payments > 0)
    .order_by(_T.method)
)


def payment_totals(affiliate_id: int, connection: Connection | None = None) -> dict[str, Any]:
    """Payments per method (the Data API's `payments`), the last one's time in Unix seconds;
    in the ledger currency only, like ``commission_totals``."""
    conn = connection or db.session.connection()
    params = {"affiliate_id": affiliate_id, "currency": ledger_currency()}
    rows = all_rows(conn, _TOTALS, params, named=False)
    return {
        method: {"payments": count, "payment_total": total, "last_payment": last}
        for method, count, total, last in rows
    }
