"""Fixtures for the REST API tests: clerk keys and orders written straight into the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from affsrv.clerkkeys.services import ROLES, create_clerk_key
from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem
from affsrv.restapi.paging import forget_all

JSON = {"Accept": "application/json"}
XML = {"Accept": "application/xml"}


@pytest.fixture(autouse=True)
def _fresh_page_cursors() -> Iterator[None]:
    forget_all()
    yield
    forget_all()


# The site (account) of the orders ``add_orders`` makes and of the products tests PUT.
SITE = "myshop"


@pytest.fixture
def clerk(app: Flask) -> Callable[..., str]:
    """``clerk("api_order_read")``: a new key's Authorization value (all roles by default),
    for site ``myshop`` unless ``sites`` says otherwise."""

    def make(*roles: str, sites: tuple[str, ...] = (SITE,)) -> str:
        with app.app_context():
            return create_clerk_key(roles or ROLES, "tests", sites=sites)[1]

    return make


@pytest.fixture
def auth(clerk: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": clerk()}


class Rest:
    def __init__(self, client: FlaskClient, auth: dict[str, str]) -> None:
        self.client, self.auth = client, auth

    def __call__(self, method: str, path: str, *, json: bool = True, page: Any = None,
                 headers: dict[str, str] | None = None, **params: Any) -> Any:
        sent = {**self.auth, **(JSON if json else XML)}
        if page is not None:
            sent["Page"] = str(page)
        sent.update(headers or {})
        return self.client.open(f"/rest/1.3/{path}", method=method, headers=sent,
                                query_string=params)


@pytest.fixture
def rest(client: FlaskClient, auth: dict[str, str]) -> Rest:
    return Rest(client, auth)


T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def order_fields(n: int, when: datetime, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        source="clickbank", account=SITE, receipt=f"RCPT{n:07d}", transaction_type="SALE",
        vendor="myshop", affiliate_nickname="aff1", role="VENDOR", payment_method="VISA",
        currency="USD", total_order_amount=Decimal("49.95"), total_account_amount=Decimal("40"),
        total_tax_amount=Decimal("0.00"), total_shipping_amount=Decimal("5.00"),
        transaction_time=when, billing_first_name="Ann", billing_last_name="Lee",
        billing_full_name="Ann Lee", billing_email=f"buyer{n}@example.com",
        billing_city="Boise", billing_state="ID", billing_postal_code="83702",
        billing_country="US", shipping_first_name="Ann", shipping_last_name="Lee",
        shipping_full_name="Ann Lee", shipping_address1="1 Main St", shipping_city="Boise",
        shipping_state="ID", shipping_postal_code="83702", shipping_country="US",
        tracking_codes=["tid1"], vendor_variables={"v1": "x"},
    )
    values.update(fields)
    return values


def add_orders(app: Flask, count: int = 1, *, start: datetime = T0,
               step: timedelta = timedelta(minutes=1), shippable: bool = True,
               first: int = 0, items: list[dict[str, Any]] | None = None,
               **fields: Any) -> list[int]:
    """Insert ``count`` orders (one transaction each) in one flush; their ids."""
    with app.app_context():
        orders = []
        for i in range(count):
            order = Order(**order_fields(first + i, start + i * step, **fields))
            for j, item in enumerate(items or [{}]):
                values = dict(item_no=f"SKU{j + 1}", product_title="Widget", shippable=shippable,
                              quantity=1, product_price=Decimal("44.95"),
                              product_discount=Decimal("0"), tax_amount=Decimal("0"),
                              shipping_amount=Decimal("5.00"), account_amount=Decimal("40.00"))
                values.update(item)
                order.line_items.append(OrderLineItem(**values))
            orders.append(order)
        db.session.add_all(orders)
        db.session.commit()
        return [o.id for o in orders]
