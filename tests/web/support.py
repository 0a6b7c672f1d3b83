"""Signing in through the pages as a browser would: the form's CSRF token read from the page."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from affsrv.users.services import add_user

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                    r'type="hidden" name="csrf_token" value="([^"]+)"|'
                    r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return next(g for g in found.groups() if g)


def add_merchant(app: Flask, email: str = "owner@shop.example", role: str = "owner",
                 password: str | None = PASSWORD) -> int:
    with app.app_context():
        return add_user(email, role, password).id


def sign_in(client: FlaskClient, email: str = "owner@shop.example", password: str = PASSWORD,
            **environ: Any) -> Any:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password}, environ_base=environ)


def merchant_client(app: Flask, role: str = "owner", email: str | None = None) -> FlaskClient:
    email = email or f"{role}@shop.example"
    add_merchant(app, email, role)
    client = app.test_client()
    assert sign_in(client, email).status_code == 303
    return client


def post_form(client: FlaskClient, page: str, action: str, **data: Any) -> Any:
    """Submit a form of ``page`` to ``action`` with ``data`` and the page's CSRF token."""
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def record_sale(app: Flask, code: str, product_id: int, commission: str, sale: str = "100.00",
                ref: str | None = None, **extra: Any) -> int:
    """Record a commission through the commissions service; its id."""
    from decimal import Decimal

    from affsrv.affiliates.services import get_affiliate
    from affsrv.commissions.services import record_commission
    from affsrv.products.services import get_product

    with app.app_context():
        return record_commission(get_affiliate(code), get_product(product_id), Decimal(sale),
                                 Decimal(commission), order_ref=ref, **extra).commission.id


def commission_status(app: Flask, commission_id: int) -> str:
    from affsrv.commissions.models import Commission
    from affsrv.extensions import db

    with app.app_context():
        return db.session.get(Commission, commission_id).status
