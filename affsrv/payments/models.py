from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.triggers import create_with_tables
from affsrv.db.types import BigId, Money, MoneySum, UTCDateTime, utcnow
from affsrv.extensions import db
from affsrv.payments.triggers import TRIGGERS


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        # The Data API's `payments` op; covering, like ix_commissions_affiliate_totals.
        Index("ix_payments_affiliate_totals", "affiliate_id", "method", "created_at", "amount",
              "currency"),
        Index("ix_payments_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"))
    method: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    reference: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentTotal(db.Model):
    """The Data API's `payments` answer for one affiliate, currency and method: count, total
    and latest time of the payouts, kept by triggers on ``payments`` in the transaction of
    every write (``payments.triggers``), so the op reads a few rows by key however many
    payouts the affiliate has. Derived from ``payments``; ``affsrv totals recount`` rebuilds
    it. A row whose payouts were all deleted stays, empty (0, NULL time), and is not
    answered."""

    __tablename__ = "payment_totals"
    __table_args__ = (
        PrimaryKeyConstraint("affiliate_id", "currency", "method"),
        {"sqlite_with_rowid": False},
    )

    affiliate_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(64))
    payments: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[Decimal] = mapped_column(MoneySum())
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


create_with_tables(db.metadata, TRIGGERS)
