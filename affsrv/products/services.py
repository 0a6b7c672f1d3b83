"""The product catalogue."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from affsrv.db.session import commit_or_conflict
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.products.models import Product
from affsrv.products.schemas import ProductCreateSchema
from affsrv.settings import settings
from affsrv.validation import check_site, format_errors

_create_schema = ProductCreateSchema()


def create_product(**data: Any) -> Product:
    try:
        values = _create_schema.load({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    product = Product(
        name=values["name"],
        landing_url=values["url"],
        sku=values["sku"],
        commission_rate=values["commission_rate"],
        enabled=True,
    )
    db.session.add(product)
    commit_or_conflict(f"a product with SKU {values['sku']!r} already exists")
    return product


def update_product(product_id: int | str, **data: Any) -> Product:
    """Change a product's name, landing URL, SKU (None removes it) and commission rate (None
    removes it), validated as for a new product; all or nothing."""
    product = get_product(product_id)
    given = {k: v for k, v in data.items() if k in {"name", "url", "sku", "commission_rate"}}
    current = {"name": product.name, "url": product.landing_url}
    try:
        values = _create_schema.load({**current, **{k: v for k, v in given.items()
                                                    if v is not None}})
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    product.name = values["name"]
    product.landing_url = values["url"]
    if "sku" in given:
        product.sku = values["sku"]
    if "commission_rate" in given:
        product.commission_rate = values["commission_rate"]
    commit_or_conflict(f"a product with SKU {values['sku']!r} already exists")
    return product


#: ``Product.created_by`` of a product created from a ClickBank notification.
CREATED_BY_CLICKBANK = "clickbank"


def add_clickbank_product(sku: str, title: str | None) -> Product:
    """A product for a SKU first seen in a ClickBank notification: named by its title (else
    its SKU), landing on ``[tracking] default_url``, no rate of its own. Added and flushed in
    the caller's transaction, not committed."""
    name = (title or "").strip()[:255] or sku
    product = Product(name=name, landing_url=settings("tracking")["default_url"], sku=sku,
                      enabled=True, created_by=CREATED_BY_CLICKBANK)
    db.session.add(product)
    db.session.flush()
    return product


def get_product(product_id: int | str) -> Product:
    """The product with this id (as the Data API sends it: a number or a numeric string)."""
    try:
        pid = int(str(product_id).strip())
    except ValueError:
        raise NotFound(f"unknown product {product_id!r}: product ids are numbers") from None
    product = db.session.get(Product, pid) if 0 < pid < 2**31 else None
    if product is None:
        raise NotFound(f"unknown product {product_id!r}")
    return product


def get_enabled_product(product_id: int | str) -> Product:
    product = get_product(product_id)
    if not product.enabled:
        raise DomainError(f"product {product.id} is disabled", 403)
    return product


def set_enabled(product_id: int | str, enabled: bool) -> Product:
    """The merchant's switch: a product disabled here stays disabled until enabled here."""
    product = get_product(product_id)
    product.enabled = enabled
    product.disabled_by_merchant = not enabled
    db.session.commit()
    return product


def assign_site(product_id: int | str, site: str | None) -> Product:
    """Give the product to a site, whose clerk keys may then read and change it through the
    REST API; None takes it back from the REST API."""
    product = get_product(product_id)
    if site is not None and not product.sku:
        raise DomainError(f"product {product.id} has no SKU: the REST API finds products by "
                          "SKU")
    product.site = None if site is None else check_site(site)
    db.session.commit()
    return product


def list_products() -> list[Product]:
    return list(db.session.scalars(select(Product).order_by(Product.id)))
