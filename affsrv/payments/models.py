from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, Money, UTCDateTime, utcnow
from affsrv.extensions import db


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
