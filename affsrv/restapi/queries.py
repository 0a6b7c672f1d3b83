"""The orders shipping2 and orders2 read, as filtered selects (paged by ``paging``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, String, exists, literal, select
from sqlalchemy.orm import selectinload

from affsrv.db.functions import json_array_has
from affsrv.orders.models import Order, OrderLineItem
from affsrv.restapi.schemas.common import resolve_window
from affsrv.shipping.models import ShipNotice
from affsrv.text import fold_case

ORDER_KEYS = (Order.transaction_time, Order.id)


def _orders(accounts: Collection[str]) -> Select[tuple[Order]]:
    """Orders of ``accounts`` (a clerk key's sites): no other account's order or customer
    is ever read."""
    return (select(Order).where(Order.account.in_(sorted(accounts)))
            .options(selectinload(Order.line_items)))


def _window(query: Select[Any], values: dict[str, Any], default_days: int | None) -> Select[Any]:
    start, end = resolve_window(values, default_days)
    if start is not None:
        query = query.where(Order.transaction_time >= start)
    if end is not None:
        query = query.where(Order.transaction_time < end)
    return query


def _escape_like(text: str) -> str:
    """``text`` as a LIKE pattern matching just itself."""
    return text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")


def _caseless(name: str, value: str) -> Any:
    """An order column matched case-insensitively: its folded copy (``Order`` keeps one of
    each ``CASELESS_SEARCH`` column) equal to the value folded the same way; or, when the
    value has ClickBank's ``%`` wildcard, LIKE it, each piece between wildcards folded on its
    own (a ``%`` that folding makes, from a full-width one, is a plain character)."""
    column = getattr(Order, f"{name}_folded")
    if "%" not in value:
        return column == fold_case(value)
    pattern = "%".join(_escape_like(fold_case(piece)) for piece in value.split("%"))
    return column.like(pattern, escape="\\")


def shipping_query(values: dict[str, Any],
                   accounts: Collection[str]) -> Select[tuple[Order]]:
    """Physical orders: by receipt alone, or by date window (default 30 days) and status."""
    query = _orders(accounts).where(Order.physical.is_(True))
    if values.get("receipt"):
        return query.where(Order.receipt == values["receipt"])
    query = _window(query, values, 30)
    shipped = exists(select(ShipNotice.id).where(ShipNotice.order_id == Order.id))
    if values["status"] == "shipped":
        query = query.where(shipped)
    elif values["status"] == "notshipped":
        query = query.where(~shipped)
    return query


def orders_query(values: dict[str, Any], accounts: Collection[str]) -> Select[tuple[Order]]:
    query = _window(_orders(accounts), values, None)
    if values.get("type"):
        query = query.where(Order.transaction_type == values["type"])
    if values.get("vendor"):
        query = query.where(_caseless("vendor", values["vendor"]))
    affiliate = values.get("affiliate")
    if affiliate and affiliate.lower() == "none":
        query = query.where(Order.affiliate_nickname == "")
    elif affiliate:
        query = query.where(_caseless("affiliate_nickname", affiliate))
    if values.get("last_name"):
        query = query.where(_caseless("billing_last_name", values["last_name"]))
    if values.get("email"):
        query = query.where(_caseless("billing_email", values["email"]))
    if values.get("postal_code"):
        query = query.where(_caseless("billing_postal_code", values["postal_code"]))
    if values.get("item"):
        query = query.where(exists(select(OrderLineItem.id).where(
            OrderLineItem.order_id == Order.id, OrderLineItem.item_no == values["item"])))
    if values.get("tid"):
        query = query.where(json_array_has(Order.tracking_codes, literal(values["tid"], String)))
    if values.get("role"):
        query = query.where(Order.role == values["role"])
    if values.get("amount") is not None:
        query = query.where(Order.total_order_amount == values["amount"])
    return query


def receipt_query(receipt: str, sku: str | None,
                  accounts: Collection[str]) -> Select[tuple[Order]]:
    query = _orders(accounts).where(Order.receipt == receipt)
    if sku:
        query = query.where(exists(select(OrderLineItem.id).where(
            OrderLineItem.order_id == Order.id, OrderLineItem.item_no == sku)))
    return query.order_by(*ORDER_KEYS)


def query_key(name: str, values: dict[str, Any],
              accounts: Collection[str]) -> tuple[Any, ...]:
    """The page-cursor key of a list query: its name, the accounts it reads and its
    parameters as sent (keys of different sites page different rows)."""
    return (name, tuple(sorted(accounts)),
            *sorted((k, str(v)) for k, v in values.items() if v is not None))
