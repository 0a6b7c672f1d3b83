"""Output shapes, in the element order of the seeds' XSDs and the OpenAPI file's schemas.

Each schema dumps a model into the value tree ``affsrv.restapi.formats`` writes as XML or
ClickBank-style JSON (``None`` leaves an element out, ``NIL`` writes a nil).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select

from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem
from affsrv.products.models import Product
from affsrv.restapi.formats import NIL, Wrapped
from affsrv.shipping.models import ShipNotice


def nil(value: Any) -> Any:
    """NIL for a missing value (for the nillable elements of the shipping XSD)."""
    return NIL if value is None or value == "" else value


def _pages(desktop: str | None, mobile: str | None) -> dict[str, Any] | None:
    if not desktop and not mobile:
        return None
    return {"desktop": desktop or None, "mobile": mobile or None}


class ProductOut(Schema):
    """``productBean`` (products XSD) / ``Product`` (OpenAPI)."""

    sku = fields.Raw(data_key="@sku")
    id = fields.Raw()
    status = fields.Function(lambda p: "ACTIVE" if p.enabled else "INACTIVE")
    digital = fields.Raw()
    physical = fields.Raw()
    digitalRecurring = fields.Raw(attribute="digital_recurring")  # noqa: N815
    physicalRecurring = fields.Raw(attribute="physical_recurring")  # noqa: N815
    site = fields.Raw()
    created = fields.Raw(attribute="created_at")
    updated = fields.Raw(attribute="updated_at")
    language = fields.Raw()
    title = fields.Raw(attribute="name")
    description = fields.Raw()
    image = fields.Function(lambda p: {"id": p.image_id} if p.image_id else None)
    thank_you_pages = fields.Function(
        lambda p: _pages(p.thank_you_page, p.mobile_thank_you_page))
    pitch_pages = fields.Function(lambda p: _pages(p.pitch_page, p.mobile_pitch_page))
    commission = fields.Function(lambda p: {
        "purchase": p.commission_rate,
        "rebill": p.rebill_commission_rate,
        "no_rebill_commission": False,
        "commission_tier_override": False,
    })
    pricings = fields.Method("_pricings")
    categories = fields.Function(
        lambda p: Wrapped("category", list(p.categories)) if p.categories else None)
    skip_confirmation_page = fields.Raw()
    no_commission = fields.Constant(False)
    sale_refund_days_limit = fields.Raw()
    rebill_refund_days_limit = fields.Raw()
    commission_tier_override = fields.Constant(False)
    deliveryMethod = fields.Raw(attribute="delivery_method")  # noqa: N815
    deliverySpeed = fields.Raw(attribute="delivery_speed")  # noqa: N815
    isPartOfOrderBump = fields.Constant(False)  # noqa: N815
    isInitialOfOrderBump = fields.Constant(False)  # noqa: N815
    isProductOfOrderBump = fields.Constant(False)  # noqa: N815

    def _pricings(self, p: Product) -> Wrapped | None:
        pricing: dict[str, Any] = {"@currency": p.currency}
        if p.price is not None:
            pricing["standard"] = {"price": {"native_price": p.price}}
        if p.recurring:
            pricing["recurring"] = {
                "price": {"native_price": p.rebill_price} if p.rebill_price is not None
                else None,
                "frequency": p.frequency,
                "duration": p.duration,
                "trial_days": p.trial_period,
                "pre_rebill_override": bool(p.pre_rebill_override),
                "pre_rebill_leadtime": p.pre_rebill_lead_time,
            }
        if p.physical or p.physical_recurring:
            pricing["physical"] = {"shipping_profile": p.shipping_profile}
        return Wrapped("pricing", [pricing])


def _customer_amount(item: OrderLineItem) -> Decimal | None:
    if item.product_price is None:
        return None
    return (item.product_price - (item.product_discount or 0) + (item.tax_amount or 0)
            + (item.shipping_amount or 0))


def _vendor_variables(order: Order) -> dict[str, Any]:
    variables = order.vendor_variables if isinstance(order.vendor_variables, dict) else {}
    return {"item": [{"name": str(k), "value": "" if v is None else str(v)}
                     for k, v in variables.items()]}


@dataclass
class Context:
    """What a page of orders needs beyond its rows, read once per page."""

    refunded: set[tuple[str, str]] = field(default_factory=set)
    chargebacked: set[tuple[str, str]] = field(default_factory=set)
    delivery: dict[int, str] = field(default_factory=dict)


REFUND_TYPES = ("RFND", "TEST_RFND")
CHARGEBACK_TYPES = ("CGBK", "INSF")


def page_context(orders: Iterable[Order]) -> Context:
    orders = list(orders)
    context = Context()
    receipts = {o.receipt for o in orders}
    if receipts:
        rows = db.session.execute(
            select(Order.account, Order.receipt, Order.transaction_type).where(
                Order.receipt.in_(receipts),
                Order.transaction_type.in_(REFUND_TYPES + CHARGEBACK_TYPES),
            )
        )
        for account, receipt, kind in rows:
            target = context.refunded if kind in REFUND_TYPES else context.chargebacked
            target.add((account, receipt))
    product_ids = {li.product_id for o in orders for li in o.line_items if li.product_id}
    if product_ids:
        context.delivery = {
            pid: method for pid, method in db.session.execute(
                select(Product.id, Product.delivery_method).where(Product.id.in_(product_ids))
            ) if method
        }
    return context


def _contact(order: Order) -> dict[str, str]:
    """The shipping contact when the order has one, else the billing contact (never a mix)."""
    prefix = "shipping_" if (order.shipping_address1 or order.shipping_full_name) else "billing_"
    contact = {name: getattr(order, prefix + name) for name in (
        "first_name", "last_name", "full_name", "email", "address1", "address2", "city",
        "state", "country", "postal_code")}
    contact["email"] = contact["email"] or order.billing_email
    return contact


class Nil(fields.Raw):
    """A nillable element: a missing value (None or empty) is written as nil."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return nil(value)


def _is_test(order: Order) -> bool:
    return bool(order.is_test or order.transaction_type.startswith("TEST"))


@dataclass
class ShipLine:
    item: OrderLineItem
    shipping_method: str | None
    refunded: bool
    chargebacked: bool


@dataclass
class ShipRow:
    order: Order
    contact: dict[str, str]
    lines: list[ShipLine]


class ShipLineOut(Schema):
    """``orderShipLineItemData`` (shipping XSD) / ``OrderShipLineItemData`` (OpenAPI)."""

    itemNo = Nil(attribute="item.item_no")  # noqa: N815
    productTitle = Nil(attribute="item.product_title")  # noqa: N815
    customerAmount = fields.Function(lambda line: nil(_customer_amount(line.item)))  # noqa: N815
    accountAmount = Nil(attribute="item.account_amount")  # noqa: N815
    quantity = Nil(attribute="item.quantity")
    shippingMethod = Nil(attribute="shipping_method")  # noqa: N815
    isRefundPending = fields.Constant(False)  # noqa: N815
    hasBeenRefunded = fields.Raw(attribute="refunded")  # noqa: N815
    hasBeenChargebacked = fields.Raw(attribute="chargebacked")  # noqa: N815


class OrderShipOut(Schema):
    """``orderShipData`` (shipping XSD) / ``OrderShipData`` (OpenAPI)."""

    receipt = Nil(attribute="order.receipt")
    firstName = Nil(attribute="contact.first_name")  # noqa: N815
    lastName = Nil(attribute="contact.last_name")  # noqa: N815
    email = Nil(attribute="contact.email")
    address1 = Nil(attribute="contact.address1")
    address2 = Nil(attribute="contact.address2")
    city = Nil(attribute="contact.city")
    state = Nil(attribute="contact.state")
    country = Nil(attribute="contact.country")
    postalCode = Nil(attribute="contact.postal_code")  # noqa: N815
    transactionTime = Nil(attribute="order.transaction_time")  # noqa: N815
    isTestTransaction = fields.Function(lambda row: _is_test(row.order))  # noqa: N815
    fullName = Nil(attribute="contact.full_name")  # noqa: N815
    vendor = Nil(attribute="order.vendor")
    vendorVariables = fields.Function(lambda row: _vendor_variables(row.order))  # noqa: N815
    lineItemShipData = fields.List(fields.Nested(ShipLineOut), attribute="lines")  # noqa: N815


_order_ship_out = OrderShipOut()


def order_ship_data(order: Order, context: Context) -> dict[str, Any]:
    key = (order.account, order.receipt)
    items = [li for li in order.line_items if li.shippable] or list(order.line_items)
    lines = [ShipLine(li, context.delivery.get(li.product_id or 0), key in context.refunded,
                      key in context.chargebacked) for li in items]
    return _order_ship_out.dump(ShipRow(order, _contact(order), lines))


class LineItemOut(Schema):
    """``LineItemData`` (OpenAPI)."""

    itemNo = Nil(attribute="item_no")  # noqa: N815
    productTitle = Nil(attribute="product_title")  # noqa: N815
    recurring = fields.Function(lambda li: bool(li.recurring))
    shippable = fields.Function(lambda li: bool(li.shippable))
    customerAmount = fields.Function(lambda li: nil(_customer_amount(li)))  # noqa: N815
    accountAmount = Nil(attribute="account_amount")  # noqa: N815
    quantity = Nil()
    lineItemType = Nil(attribute="line_item_type")  # noqa: N815
    # Subscription details affsrv does not hold.
    rebillAmount = fields.Constant(NIL)  # noqa: N815
    processedPayments = fields.Constant(NIL)  # noqa: N815
    futurePayments = fields.Constant(NIL)  # noqa: N815
    nextPaymentDate = fields.Constant(NIL)  # noqa: N815
    status = fields.Constant(NIL)
    role = Nil(attribute="order.role")


class OrderDataOut(Schema):
    """``OrderData`` (OpenAPI; the seeds give no XSD for orders2)."""

    transactionTime = Nil(attribute="transaction_time")  # noqa: N815
    receipt = Nil()
    trackingId = fields.Function(lambda o: nil(  # noqa: N815
        str(o.tracking_codes[0]) if isinstance(o.tracking_codes, list) and o.tracking_codes
        else None))
    paytmentMethod = Nil(attribute="payment_method")  # noqa: N815 - sic: ClickBank's spelling
    transactionType = Nil(attribute="transaction_type")  # noqa: N815
    totalOrderAmount = Nil(attribute="total_order_amount")  # noqa: N815
    totalShippingAmount = Nil(attribute="total_shipping_amount")  # noqa: N815
    totalTaxAmount = Nil(attribute="total_tax_amount")  # noqa: N815
    vendor = Nil()
    affiliate = Nil(attribute="affiliate_nickname")
    country = Nil(attribute="billing_country")
    state = Nil(attribute="billing_state")
    lastName = Nil(attribute="billing_last_name")  # noqa: N815
    firstName = Nil(attribute="billing_first_name")  # noqa: N815
    currency = Nil()
    declinedConsent = fields.Function(lambda o: bool(o.declined_consent))  # noqa: N815
    email = Nil(attribute="billing_email")
    postalCode = Nil(attribute="billing_postal_code")  # noqa: N815
    role = Nil()
    fullName = Nil(attribute="billing_full_name")  # noqa: N815
    customerRefundableState = fields.Constant(NIL)  # noqa: N815
    vendorVariables = fields.Function(_vendor_variables)  # noqa: N815
    lineItemData = fields.List(fields.Nested(LineItemOut), attribute="line_items")  # noqa: N815


_order_data_out = OrderDataOut()


def order_data(order: Order) -> dict[str, Any]:
    return _order_data_out.dump(order)


@dataclass
class NoticeRow:
    notice: ShipNotice
    order: Order


def _shipped_to(row: NoticeRow) -> Any:
    c = _contact(row.order)
    name = c["full_name"] or " ".join(x for x in (c["first_name"], c["last_name"]) if x)
    return nil(", ".join(p for p in (name, c["address1"], c["city"], c["state"],
                                     c["postal_code"], c["country"]) if p))


class ShipNoticeOut(Schema):
    """``ShippingNoticeData`` (OpenAPI)."""

    shipDate = fields.Function(  # noqa: N815
        lambda row: row.notice.ship_date.strftime("%Y-%m-%dT00:00:00Z"))
    carrier = Nil(attribute="notice.carrier")
    trackingId = Nil(attribute="notice.tracking")  # noqa: N815
    shippedTo = fields.Function(_shipped_to)  # noqa: N815
    comments = Nil(attribute="notice.comments")
    receipt = Nil(attribute="notice.receipt")
    itemNo = Nil(attribute="notice.item_no")  # noqa: N815


_ship_notice_out = ShipNoticeOut()


def ship_notice_data(notice: ShipNotice, order: Order) -> dict[str, Any]:
    return _ship_notice_out.dump(NoticeRow(notice, order))


product_out = ProductOut()
