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


def order_ship_data(order: Order, context: Context) -> dict[str, Any]:
    """``orderShipData`` (shipping XSD) / ``OrderShipData`` (OpenAPI)."""
    c = _contact(order)
    key = (order.account, order.receipt)
    items = [li for li in order.line_items if li.shippable] or list(order.line_items)
    return {
        "receipt": nil(order.receipt),
        "firstName": nil(c["first_name"]),
        "lastName": nil(c["last_name"]),
        "email": nil(c["email"]),
        "address1": nil(c["address1"]),
        "address2": nil(c["address2"]),
        "city": nil(c["city"]),
        "state": nil(c["state"]),
        "country": nil(c["country"]),
        "postalCode": nil(c["postal_code"]),
        "transactionTime": nil(order.transaction_time),
        "isTestTransaction": bool(order.is_test or order.transaction_type.startswith("TEST")),
        "fullName": nil(c["full_name"]),
        "vendor": nil(order.vendor),
        "vendorVariables": _vendor_variables(order),
        "lineItemShipData": [{
            "itemNo": nil(li.item_no),
            "productTitle": nil(li.product_title),
            "customerAmount": nil(_customer_amount(li)),
            "accountAmount": nil(li.account_amount),
            "quantity": nil(li.quantity),
            "shippingMethod": nil(context.delivery.get(li.product_id or 0)),
            "isRefundPending": False,
            "hasBeenRefunded": key in context.refunded,
            "hasBeenChargebacked": key in context.chargebacked,
        } for li in items],
    }


def order_data(order: Order) -> dict[str, Any]:
    """``OrderData`` with its ``LineItemData`` (OpenAPI; the seeds give no XSD for orders2)."""
    codes = order.tracking_codes if isinstance(order.tracking_codes, list) else []
    return {
        "transactionTime": nil(order.transaction_time),
        "receipt": nil(order.receipt),
        "trackingId": nil(str(codes[0]) if codes else None),
        "paytmentMethod": nil(order.payment_method),  # sic: ClickBank's spelling
        "transactionType": nil(order.transaction_type),
        "totalOrderAmount": nil(order.total_order_amount),
        "totalShippingAmount": nil(order.total_shipping_amount),
        "totalTaxAmount": nil(order.total_tax_amount),
        "vendor": nil(order.vendor),
        "affiliate": nil(order.affiliate_nickname),
        "country": nil(order.billing_country),
        "state": nil(order.billing_state),
        "lastName": nil(order.billing_last_name),
        "firstName": nil(order.billing_first_name),
        "currency": nil(order.currency),
        "declinedConsent": bool(order.declined_consent),
        "email": nil(order.billing_email),
        "postalCode": nil(order.billing_postal_code),
        "role": nil(order.role),
        "fullName": nil(order.billing_full_name),
        "customerRefundableState": NIL,
        "vendorVariables": _vendor_variables(order),
        "lineItemData": [{
            "itemNo": nil(li.item_no),
            "productTitle": nil(li.product_title),
            "recurring": bool(li.recurring),
            "shippable": bool(li.shippable),
            "customerAmount": nil(_customer_amount(li)),
            "accountAmount": nil(li.account_amount),
            "quantity": nil(li.quantity),
            "lineItemType": nil(li.line_item_type),
            "rebillAmount": NIL,
            "processedPayments": NIL,
            "futurePayments": NIL,
            "nextPaymentDate": NIL,
            "status": NIL,
            "role": nil(order.role),
        } for li in order.line_items],
    }


def ship_notice_data(notice: ShipNotice, order: Order) -> dict[str, Any]:
    """``ShippingNoticeData`` (OpenAPI)."""
    c = _contact(order)
    shipped_to = ", ".join(p for p in (c["full_name"] or " ".join(
        x for x in (c["first_name"], c["last_name"]) if x), c["address1"], c["city"],
        c["state"], c["postal_code"], c["country"]) if p)
    return {
        "shipDate": notice.ship_date.strftime("%Y-%m-%dT00:00:00Z"),
        "carrier": nil(notice.carrier),
        "trackingId": nil(notice.tracking),
        "shippedTo": nil(shipped_to),
        "comments": nil(notice.comments),
        "receipt": nil(notice.receipt),
        "itemNo": nil(notice.item_no),
    }


product_out = ProductOut()
