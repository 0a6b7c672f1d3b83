"""``/rest/1.3/shipping2``: schema, count, list, and ship notices."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from affsrv.clerkkeys.services import ORDER_READ, ORDER_WRITE
from affsrv.extensions import db
from affsrv.orders.models import Order
from affsrv.restapi import queries
from affsrv.restapi.auth import require_roles
from affsrv.restapi.errors import bad_request
from affsrv.restapi.formats import JSON, negotiate, respond, respond_count
from affsrv.restapi.paging import count, keyset_page, list_status, page_number
from affsrv.restapi.schemas.common import NO_PARAMETERS, load_query
from affsrv.restapi.schemas.shipping import ShipNoticeSchema, ShippingQuerySchema
from affsrv.restapi.shapes import order_ship_data, page_context, ship_notice_data
from affsrv.restapi.views import bp, xsd_response
from affsrv.shipping.services import record_ship_notice, ship_notices_for

_query = ShippingQuerySchema()
_notice = ShipNoticeSchema()


def _receipt(receipt: str) -> str:
    receipt = receipt.strip()
    if not 1 <= len(receipt) <= 64:
        raise bad_request("receipt: must be 1 to 64 characters")
    return receipt


@bp.get("/shipping2/schema")
def shipping_schema() -> Response:
    return xsd_response("shipping2.xsd")


@bp.get("/shipping2/count")
def shipping_count() -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate()
    values = load_query(_query, request.args)
    return respond_count(media, count(queries.shipping_query(values, key.sites)))


@bp.get("/shipping2/list")
def shipping_list() -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate()
    values = load_query(_query, request.args)
    page = page_number()
    rows, more = keyset_page(queries.shipping_query(values, key.sites), queries.ORDER_KEYS,
                             page, queries.query_key("shipping2", values, key.sites))
    context = page_context(rows)
    items = [order_ship_data(order, context) for order in rows]
    # JSON: {"orderShipData2": [...]} as clients expect; XML: one <orderShipData> element (the
    # seed XSD's global element) per order.
    if media == JSON:
        return respond(media, "orderShipDataList", {"orderShipData2": items}, list_status(more))
    return respond(media, "orderShipDataList", {"orderShipData": items}, list_status(more))


@bp.post("/shipping2/shipnotice/<receipt>")
def ship_notice(receipt: str) -> Response:
    key = require_roles(ORDER_READ, ORDER_WRITE)
    media = negotiate()
    receipt = _receipt(receipt)
    values = load_query(_notice, request.args)
    notices = record_ship_notice(
        receipt, ship_date=values["date"], carrier=values["carrier"],
        tracking=values["tracking"], item=values["item"], comments=values["comments"],
        fill_order=values["fill_order"], accounts=key.sites,
    )
    order = db.session.get(Order, notices[0].order_id)
    return respond(media, "shippingNoticeData", ship_notice_data(notices[0], order))


@bp.get("/shipping2/shipnotice/<receipt>")
def ship_notices(receipt: str) -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate()
    receipt = _receipt(receipt)
    load_query(NO_PARAMETERS, request.args)
    notices = ship_notices_for(receipt, key.sites)
    orders = {o.id: o for o in db.session.scalars(
        select(Order).where(Order.id.in_({n.order_id for n in notices})))}
    items = [ship_notice_data(n, orders[n.order_id]) for n in notices]
    return respond(media, "shippingNoticeList", {"shippingNoticeData": items})
