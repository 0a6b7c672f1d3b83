"""Small builders shared by the tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from affsrv.affiliates.services import create_affiliate
from affsrv.products.services import create_product


def add_affiliate(app: Flask, **fields: Any) -> str:
    """Create an affiliate and return its code."""
    values = {"email": f"{fields.get('code') or 'aff'}-{id(fields)}@example.com",
              "fname": "Ann", "lname": "Lee"}
    values.update(fields)
    with app.app_context():
        return create_affiliate(**values).code


def add_product(app: Flask, name: str = "Widget", url: str = "https://shop.example/widget",
                **fields: Any) -> int:
    with app.app_context():
        return create_product(name=name, url=url, **fields).id


def api(client: FlaskClient, key: str, affiliate: str, **call: Any) -> Any:
    """POST one JSON API call and return the response."""
    return client.post("/api", json={"apikey": key, "affiliate": affiliate, **call})


def money(value: str) -> Decimal:
    return Decimal(value)
