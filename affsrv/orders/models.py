from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from affsrv.db.types import BigId, Money, UTCDateTime, utcnow
from affsrv.extensions import db
from affsrv.text import fold_case

# Billing and shipping contact columns share one shape: prefix + name.
CONTACT_FIELDS = (
    "first_name", "last_name", "full_name", "phone", "email",
    "address1", "address2", "city", "county", "state", "postal_code", "country",
)


# The columns the REST API's orders2 filters match case-insensitively (``restapi.queries``).
# Each has a ``<name>_folded`` copy, ``fold_case`` of its value, which the filters compare:
# neither database folds case the way Python does (see ``fold_case``). Kept up to date on
# every ORM insert and update (``_fold_searchable``).
CASELESS_SEARCH = (
    "vendor", "affiliate_nickname", "billing_last_name", "billing_email", "billing_postal_code",
)


# Transactions that create something to ship (refunds, chargebacks and the rest do not).
SHIPPING_TRANSACTION_TYPES = frozenset({"SALE", "BILL", "TEST", "TEST_SALE", "TEST_BILL"})


class Order(db.Model):
    """One transaction on a receipt: a SALE, a BILL (rebill), an RFND, a CGBK, ..."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account", "receipt", "transaction_type", name="uq_orders_transaction"),
        # The REST API pages a clerk key's accounts' orders by (transaction_time, id): for a
        # key of one account, an index range read in page order.
        Index("ix_orders_account_time", "account", "transaction_time", "id"),
        Index("ix_orders_receipt", "receipt"),
        Index("ix_orders_billing_email", "billing_email"),
        Index("ix_orders_affiliate_nickname", "affiliate_nickname"),
        # The REST API's shipping2 list pages an account's physical orders the same way.
        Index("ix_orders_account_physical_time", "account", "physical", "transaction_time",
              "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="clickbank")
    # The ClickBank account (nickname) the transaction belongs to; "" for other sources.
    account: Mapped[str] = mapped_column(String(64), default="")
    receipt: Mapped[str] = mapped_column(String(64))
    transaction_type: Mapped[str] = mapped_column(String(40))
    vendor: Mapped[str] = mapped_column(String(64), default="")
    affiliate_nickname: Mapped[str] = mapped_column(String(64), default="")
    affiliate_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("affiliates.id"))
    role: Mapped[str] = mapped_column(String(16), default="")
    payment_method: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_order_amount: Mapped[Decimal | None] = mapped_column(Money())
    total_account_amount: Mapped[Decimal | None] = mapped_column(Money())
    total_tax_amount: Mapped[Decimal | None] = mapped_column(Money())
    total_shipping_amount: Mapped[Decimal | None] = mapped_column(Money())
    # Stored in UTC; the offset the sender gave, in minutes, keeps "its zone".
    transaction_time: Mapped[datetime] = mapped_column(UTCDateTime())
    utc_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    order_language: Mapped[str] = mapped_column(String(8), default="")
    declined_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    vendor_variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    billing_first_name: Mapped[str] = mapped_column(String(100), default="")
    billing_last_name: Mapped[str] = mapped_column(String(100), default="")
    billing_full_name: Mapped[str] = mapped_column(String(200), default="")
    billing_phone: Mapped[str] = mapped_column(String(40), default="")
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    billing_address1: Mapped[str] = mapped_column(String(255), default="")
    billing_address2: Mapped[str] = mapped_column(String(255), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_county: Mapped[str] = mapped_column(String(100), default="")
    billing_state: Mapped[str] = mapped_column(String(100), default="")
    billing_postal_code: Mapped[str] = mapped_column(String(20), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="")

    shipping_first_name: Mapped[str] = mapped_column(String(100), default="")
    shipping_last_name: Mapped[str] = mapped_column(String(100), default="")
    shipping_full_name: Mapped[str] = mapped_column(String(200), default="")
    shipping_phone: Mapped[str] = mapped_column(String(40), default="")
    shipping_email: Mapped[str] = mapped_column(String(254), default="")
    shipping_address1: Mapped[str] = mapped_column(String(255), default="")
    shipping_address2: Mapped[str] = mapped_column(String(255), default="")
    shipping_city: Mapped[str] = mapped_column(String(100), default="")
    shipping_county: Mapped[str] = mapped_column(String(100), default="")
    shipping_state: Mapped[str] = mapped_column(String(100), default="")
    shipping_postal_code: Mapped[str] = mapped_column(String(20), default="")
    shipping_country: Mapped[str] = mapped_column(String(2), default="")

    # fold_case of the CASELESS_SEARCH columns. Text: folding can lengthen a value (NFKC
    # expands some characters), and no index, so no key size limit: the filters scan anyway.
    vendor_folded: Mapped[str] = mapped_column(Text, default="")
    affiliate_nickname_folded: Mapped[str] = mapped_column(Text, default="")
    billing_last_name_folded: Mapped[str] = mapped_column(Text, default="")
    billing_email_folded: Mapped[str] = mapped_column(Text, default="")
    billing_postal_code_folded: Mapped[str] = mapped_column(Text, default="")

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A sale or rebill with something to ship (see ``compute_physical``): what the REST API's
    # shipping2 lists. Kept up to date on every ORM flush (``_update_physical``); a writer using
    # Core inserts must set it itself, or run ``affsrv shipping refresh`` afterwards.
    physical: Mapped[bool] = mapped_column(Boolean, default=False)

    line_items: Mapped[list[OrderLineItem]] = relationship(
        back_populates="order", order_by="OrderLineItem.id", cascade="all, delete-orphan"
    )

    @property
    def shippable(self) -> bool:
        return any(item.shippable for item in self.line_items)

    def compute_physical(self) -> bool:
        """A sale or rebill with a shippable line item; or, when the source does not flag
        items (not a ClickBank notification with line items), one with a shipping address.
        ClickBank sends a shipping contact on digital orders too, so its item flags decide."""
        if self.transaction_type not in SHIPPING_TRANSACTION_TYPES:
            return False
        if self.shippable:
            return True
        if self.source == "clickbank" and self.line_items:
            return False
        return bool(self.shipping_address1)


class OrderLineItem(db.Model):
    __tablename__ = "order_line_items"
    __table_args__ = (
        # A retried or legacy per-item notification adds each item once.
        UniqueConstraint("order_id", "item_no", name="uq_order_line_items_item"),
        Index("ix_order_line_items_product_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    item_no: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("products.id"))
    product_title: Mapped[str] = mapped_column(String(255), default="")
    line_item_type: Mapped[str] = mapped_column(String(16), default="ORIGINAL")
    shippable: Mapped[bool] = mapped_column(Boolean, default=False)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    product_price: Mapped[Decimal | None] = mapped_column(Money())
    product_discount: Mapped[Decimal | None] = mapped_column(Money())
    account_amount: Mapped[Decimal | None] = mapped_column(Money())
    tax_amount: Mapped[Decimal | None] = mapped_column(Money())
    shipping_amount: Mapped[Decimal | None] = mapped_column(Money())
    affiliate_payout: Mapped[Decimal | None] = mapped_column(Money())
    jv_payout: Mapped[Decimal | None] = mapped_column(Money())
    download_url: Mapped[str] = mapped_column(String(2048), default="")

    order: Mapped[Order] = relationship(back_populates="line_items")


@event.listens_for(Order, "before_insert")
@event.listens_for(Order, "before_update")
def _fold_searchable(_mapper: Any, _connection: Any, order: Order) -> None:
    for name in CASELESS_SEARCH:
        setattr(order, f"{name}_folded", fold_case(getattr(order, name) or ""))


@event.listens_for(Session, "before_flush")
def _update_physical(session: Session, _context: Any, _instances: Any) -> None:
    """Keep ``Order.physical`` right whoever writes orders and their line items (also an item
    added by ``order_id`` alone, which its order's loaded ``line_items`` do not show yet)."""
    orders = {o for o in list(session.new) + list(session.dirty) if isinstance(o, Order)}
    shippable_ids: set[int] = set()
    with session.no_autoflush:
        for item in list(session.new) + list(session.dirty):
            if isinstance(item, OrderLineItem):
                order = item.order
                if order is None and item.order_id is not None:
                    order = session.get(Order, item.order_id)
                    if order is not None and item.shippable:
                        shippable_ids.add(order.id)
                if order is not None:
                    orders.add(order)
        for order in orders:
            physical = order.compute_physical() or (
                order.id in shippable_ids
                and order.transaction_type in SHIPPING_TRANSACTION_TYPES
            )
            if order.physical != physical:
                order.physical = physical
