"""The catalogue as ClickBank's REST API sees it: products by site and SKU.

A product saved here is an ordinary catalogue product (its id is the Data API's product id,
its pitch page its landing URL). Callers pass the sites their clerk key belongs to: a product
of any other site, or with no site (made with ``affsrv product add``, until the merchant runs
``affsrv product edit ID --site NAME``), is not theirs to read, replace or bring back.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from affsrv.db.types import utcnow
from affsrv.errors import Conflict, Forbidden, NotFound
from affsrv.extensions import db
from affsrv.products.models import Product

# Query parameter (schema attribute) -> Product column, for the fields stored as they come.
_COLUMNS = (
    "currency", "language", "price", "categories", "digital", "digital_recurring", "physical",
    "physical_recurring", "description", "pitch_page", "mobile_pitch_page", "thank_you_page",
    "mobile_thank_you_page", "rebill_price", "frequency", "duration", "trial_period",
    "pre_rebill_lead_time", "pre_rebill_override", "delivery_method", "delivery_speed",
    "shipping_profile", "sale_refund_days_limit", "rebill_refund_days_limit",
    "skip_confirmation_page", "site",
)


class OutsideSites(Forbidden):
    """The SKU is a product outside the caller's sites (whose name the message never says)."""


def _live(site: str) -> Select[tuple[Product]]:
    return select(Product).where(Product.site == site, Product.deleted_at.is_(None))


def get_site_product(site: str, sku: str) -> Product:
    product = db.session.scalar(_live(site).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"no product with SKU {sku} on site {site}")
    return product


def site_products_query(site: str, product_type: str | None) -> Select[tuple[Product]]:
    query = _live(site)
    recurring = Product.digital_recurring.is_(True) | Product.physical_recurring.is_(True)
    if product_type == "RECURRING":
        query = query.where(recurring)
    elif product_type == "STANDARD":
        query = query.where(~recurring)
    return query


def save_site_product(sku: str, values: dict[str, Any],
                      sites: Collection[str]) -> tuple[Product, bool]:
    """Create or replace the product ``sku`` of site ``values["site"]`` (one of ``sites``)
    from ``PUT products/{sku}``'s checked parameters; the product and whether it was created
    (or brought back after a delete).

    A product the merchant disabled (``affsrv product disable``) is updated but stays
    disabled: only the merchant enables it again. A product this API deleted comes back
    enabled (unless the merchant disabled it)."""
    for attempt in range(2):
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is not None and product.site not in sites:
            raise OutsideSites(f"SKU {sku} is not available")
        if (product is not None and product.deleted_at is None
                and product.site != values["site"]):
            raise Conflict(f"SKU {sku} is a product of another of this key's sites: delete "
                           "it there first")
        created = product is None or product.deleted_at is not None
        if product is None:
            product = Product(sku=sku, disabled_by_merchant=False)
            db.session.add(product)
        for column in _COLUMNS:
            setattr(product, column, values[column])
        product.name = values["title"]
        product.landing_url = values["pitch_page"] or values["mobile_pitch_page"]
        product.commission_rate = values["purchase_commission"]
        product.rebill_commission_rate = values["rebill_commission"]
        product.image_id = values["image"]
        if created:
            product.enabled = not product.disabled_by_merchant
        product.deleted_at = None
        product.updated_at = utcnow()
        try:
            db.session.commit()
        except IntegrityError:  # the same new SKU saved at the same moment: update it instead
            db.session.rollback()
            if attempt:
                raise Conflict(f"SKU {sku} is being saved by another request; "
                               "try again") from None
            continue
        return product, created
    raise AssertionError("unreachable")


def delete_site_product(site: str, sku: str) -> None:
    """Delete the product from the REST API's view. The row stays, disabled, because
    commissions and orders may refer to it; a later PUT of the SKU brings it back."""
    product = get_site_product(site, sku)
    product.deleted_at = utcnow()
    product.enabled = False
    db.session.commit()
