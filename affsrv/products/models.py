from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import Percent, UTCDateTime, utcnow
from affsrv.extensions import db


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # Where the landing link sends a visitor; set by the merchant, never by a visitor.
    landing_url: Mapped[str] = mapped_column(String(2048))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # ClickBank-style SKU (item number); unique when set.
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Default commission percentage for this product (after the affiliate's own commtier).
    commission_rate: Mapped[Decimal | None] = mapped_column(Percent())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.name!r}>"
