"""Each worker's directory of products by id, for the landing link and the Data API
(see ``affsrv.directory``). Products are few, so each refresh reads them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from affsrv.directory import Directory, DirectorySource, app_directory, table_source
from affsrv.products.models import Product


@dataclass(frozen=True, slots=True)
class ProductRef:
    """What the hot paths need of a product."""

    id: int
    landing_url: str
    enabled: bool
    updated_at: datetime | None


_P = Product.__table__.c


def _ref(row: tuple) -> ProductRef:
    product_id, landing_url, enabled, updated_at = row
    return ProductRef(product_id, landing_url, bool(enabled), updated_at)


_SOURCE: DirectorySource[int, ProductRef] = table_source(
    (_P.id, _P.landing_url, _P.enabled, _P.updated_at), _P.id, _ref, key=lambda ref: ref.id,
    changes_by_updated_at=False,
)


def product_directory() -> Directory[int, ProductRef]:
    """The running app's product directory."""
    return app_directory("product_directory", _SOURCE)


def find_product(product_id: int) -> ProductRef | None:
    """The product with this id (as of at most ``[server] cache_seconds`` ago), or None."""
    if not 0 < product_id < 2**31:
        return None
    return product_directory().get(product_id)
