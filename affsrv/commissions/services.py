"""Recording, approving and reversing commissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import (
    Commission,
    CommissionKind,
    CommissionStatus,
    CommissionTotal,
)
from affsrv.db.functions import money_text, unix_seconds
from affsrv.db.reads import all_rows
from affsrv.db.types import to_money, utcnow
from affsrv.errors import Conflict, DomainError, Forbidden, NotFound
from affsrv.extensions import db
from affsrv.products.models import Product
from affsrv.settings import settings
from affsrv.signals import commission_recorded, commission_reversed
from affsrv.tracking.services import is_self_referral

REVERSAL_REASONS = ("refund", "chargeback")


def ledger_currency() -> str:
    """The one currency affsrv keeps commissions, payouts and the Data API's totals in
    (``[commissions] currency``): it converts none, and the totals name none."""
    return settings("commissions")["currency"]


@dataclass(frozen=True)
class Recorded:
    commission: Commission
    created: bool  # False when an earlier call with the same ref already recorded it


def commission_amount(
    affiliate: Affiliate,
    product: Product,
    sale_total: Decimal,
    sent: Decimal | None,
    fallback: Decimal | None = None,
) -> Decimal:
    """The affiliate's own percentage wins; then the amount sent; then the product's rate;
    then ``fallback`` (e.g. ClickBank's affiliate payout)."""
    if affiliate.commtier is not None:
        return to_money(sale_total * affiliate.commtier / 100)
    if sent is not None:
        return to_money(sent)
    if product.commission_rate is not None:
        return to_money(sale_total * product.commission_rate / 100)
    if fallback is not None:
        return to_money(fallback)
    raise DomainError(
        "commission.commtotal is required: the affiliate has no commtier and the product "
        "no commission rate"
    )


def max_sale_total() -> Decimal:
    """``[commissions] max_saletotal``: no commission is credited on a larger sale, whatever
    its source (the JSON API, ClickBank)."""
    return Decimal(settings("commissions")["max_saletotal"])


def check_sale_total(sale_total: Decimal) -> None:
    limit = max_sale_total()
    if sale_total > limit:
        raise DomainError(f"sale total {sale_total} is over the limit {limit} "
                          "([commissions] max_saletotal): no commission")


def record_commission(
    affiliate: Affiliate,
    product: Product,
    sale_total: Decimal,
    commission_total: Decimal | None = None,
    *,
    currency: str | None = None,
    order_ref: str | None = None,
    ip: str = "",
    notes: str = "",
    source: str = "api",
    fallback_amount: Decimal | None = None,
    emails: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    commit: bool = True,
    order: Any = None,
) -> Recorded:
    """Record a sale's commission once. With ``order_ref`` a repeat (or a racing twin) returns
    the first commission instead of a second one.

    ``commit=False`` leaves the transaction open for a caller that writes more in it (ClickBank
    intake stores the order and its commissions together); nothing the caller added is rolled
    back then: a duplicate is detected inside a savepoint. ``order`` (an ``Order``) is passed
    on to the ``commission_recorded`` receivers."""
    if not product.enabled:
        raise Forbidden(f"product {product.id} is disabled: commissions for it are ignored")
    check_sale_total(sale_total)
    _check_affiliate_may_earn(affiliate, ip)
    amount = commission_amount(affiliate, product, sale_total, commission_total, fallback_amount)
    if amount > sale_total:
        raise DomainError(
            f"commission.commtotal {amount} is more than commission.saletotal {sale_total}"
        )
    status = (
        CommissionStatus.PENDING
        if settings("commissions")["require_approval"]
        else CommissionStatus.APPROVED
    )
    commission = Commission(
        affiliate_id=affiliate.id,
        product_id=product.id,
        kind=CommissionKind.SALE,
        status=status,
        sale_total=to_money(sale_total),
        commission_total=amount,
        currency=currency or ledger_currency(),
        order_ref=order_ref,
        ip=ip,
        notes=notes,
        source=source,
    )
    if not _insert(commission, commit):
        existing = _find_sale(affiliate.id, product.id, order_ref) if order_ref else None
        if existing is None:
            raise Conflict("the commission could not be recorded: a conflicting one exists")
        return Recorded(existing, created=False)
    commission_recorded.send(commission, emails=emails or {}, custom=custom or {}, order=order)
    if commit:
        db.session.commit()
    return Recorded(commission, created=True)


def _insert(row: Commission, commit: bool) -> bool:
    """Add ``row``; False when a unique constraint refused it (a duplicate or racing twin).
    With ``commit`` the whole transaction is rolled back then; without, only a savepoint."""
    if commit:
        db.session.add(row)
        try:
            db.session.flush()  # the first write of the transaction: a duplicate fails here
        except IntegrityError:
            db.session.rollback()
            return False
        return True
    db.session.flush()  # the caller's pending rows stay outside the savepoint
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def _check_affiliate_may_earn(affiliate: Affiliate, ip: str) -> None:
    if not affiliate.enabled:
        raise Forbidden(f"affiliate {affiliate.code!r} is disabled")
    if not affiliate.approved and settings("affiliates")["require_approval"]:
        raise Forbidden(f"affiliate {affiliate.code!r} is awaiting approval")
    if not settings("commissions")["allow_self_referral"] and is_self_referral(affiliate.ip, ip):
        raise Forbidden("self-referral refused: the buyer's IP is the affiliate's own IP")


def _find_sale(affiliate_id: int, product_id: int, order_ref: str) -> Commission | None:
    return db.session.scalar(
        select(Commission).where(
            Commission.affiliate_id == affiliate_id,
            Commission.product_id == product_id,
            Commission.order_ref == order_ref,
            Commission.kind == CommissionKind.SALE,
        )
    )


def reverse_commission(
    affiliate: Affiliate,
    product: Product,
    order_ref: str,
    reason: str,
    notes: str = "",
    *,
    commit: bool = True,
    order: Any = None,
) -> Commission:
    """Reverse the sale recorded under ``order_ref``: an unpaid commission becomes
    ``reversed``; a paid one gets a negative twin so totals stay true. Repeating it changes
    nothing. Returns the reversed sale, or the negative commission for a paid one.

    ``commit=False`` and ``order``: as for ``record_commission``."""
    if reason not in REVERSAL_REASONS:
        raise DomainError(f"unknown reversal type {reason!r}")

    def _abandon() -> None:
        if commit:
            db.session.rollback()

    # Twice at most: on SQLite (no row locks) a payout may settle the sale between this read
    # and the update below, which then changes nothing; the second read sees it paid.
    for _ in range(2):
        sale = db.session.scalar(
            select(Commission)
            .where(
                Commission.affiliate_id == affiliate.id,
                Commission.product_id == product.id,
                Commission.order_ref == order_ref,
                Commission.kind == CommissionKind.SALE,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if sale is None:
            _abandon()
            raise NotFound(
                f"no sale with ref {order_ref!r} for affiliate {affiliate.code!r} and product "
                f"{product.id} to {reason}"
            )
        if sale.status == CommissionStatus.REVERSED:
            _abandon()
            return sale
        if sale.payment_id is not None:
            break
        # Conditional update: of two racing reversals only one changes the row.
        changed = db.session.execute(
            update(Commission)
            .where(Commission.id == sale.id, Commission.status != CommissionStatus.REVERSED,
                   Commission.payment_id.is_(None))
            .values(status=CommissionStatus.REVERSED, reversal_reason=reason,
                    updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            db.session.refresh(sale)
            commission_reversed.send(sale, reversal=None, reason=reason, order=order)
            if commit:
                db.session.commit()
            return sale
        _abandon()  # reversed by a racing twin, or paid meanwhile: read it again
    else:
        raise Conflict(f"the sale with ref {order_ref!r} changed while it was reversed: retry")
    reversal = Commission(
        affiliate_id=sale.affiliate_id,
        product_id=sale.product_id,
        kind=CommissionKind.REVERSAL,
        status=CommissionStatus.APPROVED,
        sale_total=-sale.sale_total,
        commission_total=-sale.commission_total,
        currency=sale.currency,
        order_ref=order_ref,
        reverses_id=sale.id,
        reversal_reason=reason,
        source=sale.source,
        notes=notes,
    )
    if not _insert(reversal, commit):
        existing = db.session.scalar(
            select(Commission).where(Commission.reverses_id == sale.id)
        )
        if existing is None:
            raise Conflict("the reversal could not be recorded: a conflicting one exists")
        return existing
    commission_reversed.send(sale, reversal=reversal, reason=reason, order=order)
    if commit:
        db.session.commit()
    return reversal


def _totals_statement(by_product: bool) -> Any:
    t = CommissionTotal.__table__  # Core columns: no ORM compile step on the hot path
    # A few rows by key, however many commissions the affiliate has (commissions.totals keeps
    # them); a row whose approved commissions were all taken out is empty and not answered.
    query = (
        select(t.c.product_id, t.c.commissions, money_text(t.c.sale_total),
               money_text(t.c.commission_total), unix_seconds(t.c.last_at))
        .where(t.c.affiliate_id == bindparam("affiliate_id"),
               t.c.currency == bindparam("currency"),
               t.c.approved_rows > 0)
        .order_by(t.c.product_id)
    )
    return query.where(t.c.product_id == bindparam("product_id")) if by_product else query


# Built once (the Data API asks for totals on every `commissions` call).
_TOTALS = _totals_statement(by_product=False)
_TOTALS_FOR_PRODUCT = _totals_statement(by_product=True)


def commission_totals(
    affiliate_id: int, product_id: int | None = None, connection: Connection | None = None
) -> list[tuple[int, int, str, str, int]]:
    """Approved commissions per product (the Data API's `commissions`): rows of (product id,
    count, sale total, commission total, the last one's time in Unix seconds) ordered by
    product, the amounts as the answer writes them (``money_text``). A negative (clawback)
    commission subtracts one from the count and its amounts from the totals. Only commissions
    in the ledger currency (``[commissions] currency``) count: the answer names no currency,
    and amounts in two are not one sum."""
    conn = connection or db.session.connection()
    params = {"affiliate_id": affiliate_id, "currency": ledger_currency()}
    if product_id is None:
        return all_rows(conn, _TOTALS, params, named=False)
    return all_rows(conn, _TOTALS_FOR_PRODUCT, {**params, "product_id": product_id},
                    named=False)


def set_status(ids: list[int] | None, status: CommissionStatus) -> int:
    """Approve or reject pending commissions: those in ``ids``, or (None) every pending one.
    Names an id that does not exist or is not pending, changing nothing, rather than half."""
    pending = Commission.status == CommissionStatus.PENDING
    if ids is not None:
        wanted = set(ids)
        found = dict(
            db.session.execute(
                select(Commission.id, Commission.status)
                .where(Commission.id.in_(wanted))
                .with_for_update()
            ).all()
        )
        if missing := sorted(wanted - set(found)):
            db.session.rollback()
            raise NotFound(f"no commission with id {', '.join(map(str, missing))}")
        if not_pending := sorted(i for i, s in found.items() if s != CommissionStatus.PENDING):
            db.session.rollback()
            raise Conflict(f"not pending: {', '.join(map(str, not_pending))}")
        pending = pending & Commission.id.in_(wanted)
    # One kept totals row at a time, in key order: each approved commission's trigger adds to
    # its (affiliate, currency, product) row and holds it until commit, and every writer of
    # several rows in one transaction (a ClickBank cart, this) takes them in this order, so
    # two of them never wait for each other on PostgreSQL (a deadlock, one refused).
    # Sorted as whole tuples in Python (a handful of keys): no column of the order to forget.
    keys = sorted(tuple(key) for key in db.session.execute(
        select(Commission.affiliate_id, Commission.currency, Commission.product_id)
        .where(pending).distinct()
    ))
    changed = 0
    for affiliate_id, currency, product_id in keys:
        changed += db.session.execute(
            update(Commission).where(
                pending, Commission.affiliate_id == affiliate_id,
                Commission.currency == currency, Commission.product_id == product_id,
            ).values(status=status, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    return changed


def find_commissions(
    status: str | None = None,
    affiliate_id: int | None = None,
    product_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 500,
) -> list[Commission]:
    """Commissions newest first, filtered by each argument given (``since`` inclusive,
    ``until`` exclusive, both UTC); at most ``limit`` (None: all, for an export)."""
    query = select(Commission).order_by(Commission.created_at.desc(), Commission.id.desc())
    if status:
        query = query.where(Commission.status == status)
    if affiliate_id is not None:
        query = query.where(Commission.affiliate_id == affiliate_id)
    if product_id is not None:
        query = query.where(Commission.product_id == product_id)
    if since is not None:
        query = query.where(Commission.created_at >= since)
    if until is not None:
        query = query.where(Commission.created_at < until)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def list_commissions(status: str | None = None, limit: int = 100) -> list[Commission]:
    query = select(Commission).order_by(Commission.id.desc()).limit(limit)
    if status:
        query = query.where(Commission.status == status)
    return list(db.session.scalars(query))
