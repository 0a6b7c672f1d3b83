from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, UTCDateTime, utcnow
from affsrv.extensions import db


class Click(db.Model):
    """One referral: a visitor who arrived through an affiliate's link."""

    __tablename__ = "clicks"
    __table_args__ = (
        # The Data API's `referrals` op groups one affiliate's clicks by product and link.
        Index("ix_clicks_affiliate_product_link", "affiliate_id", "product_id", "link"),
        Index("ix_clicks_product_id", "product_id"),
        Index("ix_clicks_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"))
    product_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("products.id"))
    link: Mapped[str] = mapped_column(String(2048), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
