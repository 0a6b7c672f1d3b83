from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import Money, Percent, UTCDateTime, utcnow
from affsrv.extensions import db


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # Where the landing link sends a visitor; set by the merchant, never by a visitor.
    landing_url: Mapped[str] = mapped_column(String(2048))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Disabled by the merchant (``affsrv product disable``): only ``affsrv product enable``
    # enables it again; a REST API PUT never does.
    disabled_by_merchant: Mapped[bool] = mapped_column(Boolean, default=False)
    # ClickBank-style SKU (item number); unique when set.
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Default commission percentage for this product (after the affiliate's own commtier).
    commission_rate: Mapped[Decimal | None] = mapped_column(Percent())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who added it when not the merchant: "clickbank" for a product created from an Instant
    # Notification naming an unknown SKU (``affsrv product list`` shows it).
    created_by: Mapped[str | None] = mapped_column(String(16))

    # ClickBank REST API 1.3 product fields (``PUT /rest/1.3/products/{sku}``); ``name`` is its
    # title, ``commission_rate`` its purchaseCommission, ``landing_url`` its pitch page.
    # ``site`` is the account (lower case) whose clerk keys may read and change the product;
    # None (a product made with the CLI) keeps it from the REST API until the merchant
    # assigns it (``affsrv product edit ID --site NAME``).
    site: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    language: Mapped[str | None] = mapped_column(String(2))
    price: Mapped[Decimal | None] = mapped_column(Money())
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    digital: Mapped[bool] = mapped_column(Boolean, default=False)
    digital_recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    physical: Mapped[bool] = mapped_column(Boolean, default=False)
    physical_recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    pitch_page: Mapped[str | None] = mapped_column(String(2048))
    mobile_pitch_page: Mapped[str | None] = mapped_column(String(2048))
    thank_you_page: Mapped[str | None] = mapped_column(String(2048))
    mobile_thank_you_page: Mapped[str | None] = mapped_column(String(2048))
    rebill_price: Mapped[Decimal | None] = mapped_column(Money())
    rebill_commission_rate: Mapped[Decimal | None] = mapped_column(Percent())
    frequency: Mapped[str | None] = mapped_column(String(16))
    duration: Mapped[int | None] = mapped_column(Integer)
    trial_period: Mapped[int | None] = mapped_column(Integer)
    pre_rebill_lead_time: Mapped[int | None] = mapped_column(Integer)
    pre_rebill_override: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_method: Mapped[str | None] = mapped_column(String(100))
    delivery_speed: Mapped[str | None] = mapped_column(String(100))
    shipping_profile: Mapped[str | None] = mapped_column(String(100))
    image_id: Mapped[int | None] = mapped_column(Integer)
    sale_refund_days_limit: Mapped[int | None] = mapped_column(Integer)
    rebill_refund_days_limit: Mapped[int | None] = mapped_column(Integer)
    skip_confirmation_page: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), onupdate=utcnow)
    # Set by ``DELETE /rest/1.3/products/{sku}``: the row stays (commissions and orders refer to
    # it) but is disabled and hidden from the REST API until a PUT brings the SKU back.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def recurring(self) -> bool:
        return self.digital_recurring or self.physical_recurring

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.name!r}>"
