"""Recording payouts to affiliates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, bindparam, case, func, select, type_coerce

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.commissions.services import ledger_currency
from affsrv.db.functions import money_text, unix_seconds
from affsrv.db.locks import lock_until_commit
from affsrv.db.reads import all_rows
from affsrv.db.types import Money, to_money
from affsrv.errors import Conflict, DomainError, NotFound
from affsrv.extensions import db
from affsrv.payments.models import Payment, PaymentTotal
from affsrv.payments.schemas import PaymentCreateSchema
from affsrv.signals import payment_recorded
from affsrv.validation import format_errors

_create_schema = PaymentCreateSchema()


def record_payment(affiliate: Affiliate, *, commit: bool = True, **data: Any) -> Payment:
    """Record a payout and mark the affiliate's approved, unpaid commissions in its currency as
    paid, oldest first, as far as the amount covers them whole. A paid commission that is
    later refunded is clawed back with a negative commission instead of being reversed.

    ``commit=False`` leaves the transaction open (a payout batch commits all its payments
    together)."""
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
    if commit:
        db.session.commit()
    return payment


_T = PaymentTotal.__table__.c  # Core columns: no ORM compile step on the hot path
# Built once (the Data API asks for it on every `payments` call): a few rows by key, however
# many payouts the affiliate has (payments.totals keeps them).
_TOTALS = (
    select(_T.method, _T.payments, money_text(_T.total), unix_seconds(_T.last_at))
    .where(_T.affiliate_id == bindparam("affiliate_id"), _T.currency == bindparam("currency"),
           _T.payments > 0)
    .order_by(_T.method)
)


def payment_totals(
    affiliate_id: int, connection: Connection | None = None
) -> list[tuple[str, int, str, int]]:
    """Payments per method (the Data API's `payments`): rows of (method, count, total, the last
    one's time in Unix seconds) ordered by method, the total as the answer writes it
    (``money_text``); in the ledger currency only, like ``commission_totals``."""
    conn = connection or db.session.connection()
    params = {"affiliate_id": affiliate_id, "currency": ledger_currency()}
    return all_rows(conn, _TOTALS, params, named=False)


@dataclass(frozen=True)
class Balance:
    """One affiliate's account in the ledger currency. ``earned``: approved commissions (a
    clawback subtracts); ``pending``: awaiting approval; ``paid``: payments; ``owed``: earned
    less paid."""

    affiliate_id: int
    earned: Decimal
    pending: Decimal
    paid: Decimal

    @property
    def owed(self) -> Decimal:
        return self.earned - self.paid


_ZERO = Decimal("0.00")


def balances(affiliate_ids: list[int] | None = None) -> dict[int, Balance]:
    """Each affiliate's ``Balance`` (those in ``affiliate_ids``, or every one with a
    commission or payment), in the ledger currency only."""
    currency = ledger_currency()
    c = Commission.__table__.c
    pc = Payment.__table__.c
    earned_q = (
        select(
            c.affiliate_id,
            type_coerce(func.sum(case((c.status == CommissionStatus.APPROVED.value,
                                       c.commission_total), else_=0)), Money()),
            type_coerce(func.sum(case((c.status == CommissionStatus.PENDING.value,
                                       c.commission_total), else_=0)), Money()),
        )
        .where(c.currency == currency)
        .group_by(c.affiliate_id)
    )
    paid_q = (
        select(pc.affiliate_id, type_coerce(func.sum(pc.amount), Money()))
        .where(pc.currency == currency)
        .group_by(pc.affiliate_id)
    )
    if affiliate_ids is not None:
        earned_q = earned_q.where(c.affiliate_id.in_(affiliate_ids))
        paid_q = paid_q.where(pc.affiliate_id.in_(affiliate_ids))
    earned = {aid: (e or _ZERO, p or _ZERO) for aid, e, p in db.session.execute(earned_q)}
    paid = {aid: total or _ZERO for aid, total in db.session.execute(paid_q)}
    ids = set(affiliate_ids) if affiliate_ids is not None else set(earned) | set(paid)
    return {
        aid: Balance(aid, earned.get(aid, (_ZERO, _ZERO))[0], earned.get(aid, (_ZERO, _ZERO))[1],
                     paid.get(aid, _ZERO))
        for aid in ids
    }


def owed_at_least(minimum: Decimal) -> list[tuple[Affiliate, Balance]]:
    """Enabled affiliates owed ``minimum`` or more (at least a cent), most owed first."""
    minimum = max(to_money(minimum), Decimal("0.01"))
    owed = [b for b in balances().values() if b.owed >= minimum]
    affiliates = {
        a.id: a for a in db.session.scalars(
            select(Affiliate).where(Affiliate.id.in_([b.affiliate_id for b in owed]),
                                    Affiliate.enabled.is_(True)))
    }
    rows = [(affiliates[b.affiliate_id], b) for b in owed if b.affiliate_id in affiliates]
    return sorted(rows, key=lambda row: (-row[1].owed, row[0].id))


def record_payout_batch(amounts: dict[int, Decimal], method: str, reference: str
                        ) -> list[Payment]:
    """Record one payment per affiliate id in ``amounts``, in the ledger currency, all in one
    transaction: every payment or (on any refusal) none. Refused when it would leave an
    affiliate paid more than earned: the amounts are what each was owed when the merchant
    chose them, and a batch recorded since may have paid it."""
    if not amounts:
        raise DomainError("payout batch: choose at least one affiliate")
    found = {a.id: a for a in db.session.scalars(
        select(Affiliate).where(Affiliate.id.in_(list(amounts))))}
    if missing := sorted(set(amounts) - set(found)):
        raise NotFound(f"no affiliate with id {', '.join(map(str, missing))}")
    payments = []
    try:
        # In affiliate id order: each payment locks its affiliate's unpaid commissions and
        # totals rows, so two batches of the same affiliates (two merchants, or one form sent
        # twice) take them in one order and never wait for each other in a cycle.
        for affiliate_id in sorted(amounts):
            lock_until_commit("payout", str(affiliate_id))
            payments.append(record_payment(found[affiliate_id], commit=False, method=method,
                                           amount=str(amounts[affiliate_id]),
                                           reference=reference))
        # Read after the writes (and the locks), so a batch that committed meanwhile is
        # counted: the amounts were worked out before this transaction, and the same owed
        # amount must not be paid twice.
        overpaid = sorted(found[a].code for a, b in balances(sorted(amounts)).items()
                          if b.owed < 0)
        if overpaid:
            raise Conflict(f"payout batch: {', '.join(overpaid)} would be paid more than "
                              "is owed (a payout was recorded meanwhile); nothing was recorded")
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return payments


def list_payments(affiliate_id: int | None = None, limit: int | None = 500) -> list[Payment]:
    """Payments, newest first (of one affiliate, when given); at most ``limit`` (None: all)."""
    query = select(Payment).order_by(Payment.created_at.desc(), Payment.id.desc())
    if limit is not None:
        query = query.limit(limit)
    if affiliate_id is not None:
        query = query.where(Payment.affiliate_id == affiliate_id)
    return list(db.session.scalars(query))
