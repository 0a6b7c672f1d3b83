from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.commissions.triggers import TRIGGERS
from affsrv.db.triggers import create_with_tables
from affsrv.db.types import BigId, Money, MoneySum, UTCDateTime, utcnow
from affsrv.extensions import db


class CommissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVERSED = "reversed"


class CommissionKind(StrEnum):
    SALE = "sale"
    # A negative commission that claws back a sale already paid out.
    REVERSAL = "reversal"


class Commission(db.Model):
    __tablename__ = "commissions"
    __table_args__ = (
        # One sale and at most one reversal per shop order: the idempotency key of `ref`.
        UniqueConstraint("affiliate_id", "product_id", "order_ref", "kind",
                         name="uq_commissions_order"),
        # The Data API's `commissions` op: one affiliate's approved commissions per product.
        # Covering (every column the totals read, the currency too), so the op reads a few
        # index pages instead of one table page per commission.
        Index("ix_commissions_affiliate_totals", "affiliate_id", "status", "product_id", "kind",
              "created_at", "sale_total", "commission_total", "currency"),
        Index("ix_commissions_status", "status"),
        Index("ix_commissions_product_id", "product_id"),
        Index("ix_commissions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"))
    product_id: Mapped[int] = mapped_column(Integer, ForeignKey("products.id"))
    kind: Mapped[str] = mapped_column(String(16), default=CommissionKind.SALE)
    status: Mapped[str] = mapped_column(String(16), default=CommissionStatus.PENDING)
    sale_total: Mapped[Decimal] = mapped_column(Money())
    commission_total: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # The shop's order id (or ClickBank receipt); makes recording idempotent.
    order_ref: Mapped[str | None] = mapped_column(String(128))
    # For a reversal row: the sale it reverses; why (refund, chargeback).
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("commissions.id"))
    reversal_reason: Mapped[str | None] = mapped_column(String(16))
    # Set when a payment to the affiliate settled this commission.
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payments.id"))
    source: Mapped[str] = mapped_column(String(16), default="api")
    ip: Mapped[str] = mapped_column(String(45), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CommissionTotal(db.Model):
    """The Data API's `commissions` answer for one affiliate, ledger currency and product: its
    approved commissions' count (a negative twin counts -1), sale and commission totals and
    latest time, kept by triggers on ``commissions`` in the transaction of every write that
    changes them (``commissions.triggers``), so the op reads a few rows by key however many
    commissions the affiliate has. Derived from ``commissions``; ``affsrv totals recount``
    rebuilds it.

    ``approved_rows`` counts the approved rows themselves: a product whose sale and its
    negative twin cancel out still shows (count 0) as long as it has approved rows, as the
    sum over the rows does; at 0 the row stays, empty, and the op skips it."""

    __tablename__ = "commission_totals"
    # One affiliate's rows sit together in the key (SQLite: WITHOUT ROWID), in the order the
    # op answers them.
    __table_args__ = (
        PrimaryKeyConstraint("affiliate_id", "currency", "product_id"),
        {"sqlite_with_rowid": False},
    )

    affiliate_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3))
    product_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    commissions: Mapped[int] = mapped_column(BigInteger)
    sale_total: Mapped[Decimal] = mapped_column(MoneySum())
    commission_total: Mapped[Decimal] = mapped_column(MoneySum())
    approved_rows: Mapped[int] = mapped_column(BigInteger)
    # NULL only when no approved row is left.
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


create_with_tables(db.metadata, TRIGGERS)
