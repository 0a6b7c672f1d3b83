from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, UTCDateTime, utcnow
from affsrv.extensions import db


class ShipNotice(db.Model):
    """One shipment of an order's item (``POST /rest/1.3/shipping2/shipnotice/{receipt}``)."""

    __tablename__ = "ship_notices"
    __table_args__ = (
        Index("ix_ship_notices_order_id", "order_id"),
        Index("ix_ship_notices_receipt", "receipt"),
        # The same notice sent twice (a client retrying) is stored once.
        UniqueConstraint("order_id", "item_no", "carrier", "tracking",
                         name="uq_ship_notices_notice"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    receipt: Mapped[str] = mapped_column(String(64))
    item_no: Mapped[str] = mapped_column(String(64), default="")
    ship_date: Mapped[date] = mapped_column(Date)
    carrier: Mapped[str] = mapped_column(String(100))
    tracking: Mapped[str] = mapped_column(String(255))
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
