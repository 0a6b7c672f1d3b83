"""``/rest/1.3/orders2``: list, count, and the transactions of one receipt."""

from __future__ import annotations

from flask import Response, request

from affsrv.clerkkeys.models import ClerkKey
from affsrv.clerkkeys.services import ORDER_READ
from affsrv.extensions import db
from affsrv.orders.models import Order
from affsrv.restapi import queries
from affsrv.restapi.auth import require_roles
from affsrv.restapi.errors import RestError, bad_request
from affsrv.restapi.formats import JSON, TEXT, XML, negotiate, respond, respond_count
from affsrv.restapi.paging import count, keyset_page, list_status, page_number
from affsrv.restapi.schemas.common import load_query
from affsrv.restapi.schemas.orders import OrderGetSchema, OrdersQuerySchema
from affsrv.restapi.shapes import order_data
from affsrv.restapi.views import bp

_query = OrdersQuerySchema()
_get = OrderGetSchema()


@bp.get("/orders2/list")
def orders_list() -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate()
    values = load_query(_query, request.args)
    page = page_number()
    rows, more = keyset_page(queries.orders_query(values, key.sites), queries.ORDER_KEYS, page,
                             queries.query_key("orders2", values, key.sites))
    return respond(media, "orderList", {"orderData": [order_data(o) for o in rows]},
                   list_status(more))


@bp.get("/orders2/count")
def orders_count() -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate((XML, JSON, TEXT))
    values = load_query(_query, request.args)
    return respond_count(media, count(queries.orders_query(values, key.sites)))


ENDED = {"RFND", "TEST_RFND", "CGBK", "INSF"}
CANCELS = {"CANCEL-REBILL": True, "CANCEL-TEST-REBILL": True,
           "UNCANCEL-REBILL": False, "UNCANCEL-TEST-REBILL": False}


def _receipt_orders(receipt: str, key: ClerkKey) -> list[Order]:
    """The key's sites' transactions on ``receipt``; another account's are not found."""
    receipt = receipt.strip()
    if not 1 <= len(receipt) <= 64:
        raise bad_request("receipt: must be 1 to 64 characters")
    values = load_query(_get, request.args)
    return list(db.session.scalars(queries.receipt_query(receipt, values["sku"], key.sites)))


@bp.route("/orders2/<receipt>", methods=["HEAD"])
def order_is_active(receipt: str) -> Response:
    """ClickBank's check that an order or subscription is active: 204 when it is; 403 when it
    was refunded, charged back or cancelled, or is not found."""
    key = require_roles(ORDER_READ)
    orders = _receipt_orders(receipt, key)
    if not orders:
        raise RestError(403, f"no order with receipt {receipt}")
    cancelled = False
    for order in orders:  # in time order: the last cancel or uncancel decides
        if order.transaction_type in ENDED:
            raise RestError(403, f"order {receipt} was refunded or charged back")
        cancelled = CANCELS.get(order.transaction_type, cancelled)
    if cancelled:
        raise RestError(403, f"the subscription on {receipt} is cancelled")
    return Response(status=204)


@bp.get("/orders2/<receipt>")
def order_by_receipt(receipt: str) -> Response:
    key = require_roles(ORDER_READ)
    media = negotiate()
    orders = _receipt_orders(receipt, key)
    if not orders:
        raise RestError(404, f"no order with receipt {receipt}")
    return respond(media, "orderList", {"orderData": [order_data(o) for o in orders]})
