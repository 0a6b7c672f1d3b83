"""``/rest/1.3/products``: schema, get, list, put, delete."""

from __future__ import annotations

from flask import Response, request

from affsrv.clerkkeys.services import PRODUCTS_CLIENT
from affsrv.products import clickbank
from affsrv.products.models import Product
from affsrv.restapi.auth import OUTSIDE_SITES, require_roles, require_site
from affsrv.restapi.errors import RestError, bad_request
from affsrv.restapi.formats import negotiate, respond
from affsrv.restapi.paging import count, keyset_page, list_status, page_number
from affsrv.restapi.schemas.common import load_query
from affsrv.restapi.schemas.products import (
    SKU,
    ListSchema,
    ProductPutSchema,
    SiteSchema,
)
from affsrv.restapi.shapes import product_out
from affsrv.restapi.views import bp, xsd_response

_site = SiteSchema()
_list = ListSchema()
_put = ProductPutSchema()
RESERVED_SKUS = {"list", "schema"}


def _sku(sku: str) -> str:
    if not SKU.match(sku) or sku.lower() in RESERVED_SKUS:
        raise bad_request("sku: must be 1 to 64 letters, digits, '-' or '_' (not 'list' or "
                          "'schema')")
    return sku


@bp.get("/products/schema")
def products_schema() -> Response:
    return xsd_response("products.xsd")


@bp.get("/products/list")
def list_products() -> Response:
    key = require_roles(PRODUCTS_CLIENT)
    media = negotiate()
    values = load_query(_list, request.args)
    require_site(key, values["site"])
    page = page_number()
    query = clickbank.site_products_query(values["site"], values["type"])
    rows, more = keyset_page(query, (Product.id,), page,
                             ("products", values["site"], values["type"]))
    body = {"products": {"product": [product_out.dump(p) for p in rows]},
            "total_record_count": count(query)}
    return respond(media, "productList", body, list_status(more))


@bp.get("/products/<sku>")
def get_product(sku: str) -> Response:
    key = require_roles(PRODUCTS_CLIENT)
    media = negotiate()
    values = load_query(_site, request.args)
    product = clickbank.get_site_product(require_site(key, values["site"]), _sku(sku))
    return respond(media, "product", product_out.dump(product))


@bp.put("/products/<sku>")
def put_product(sku: str) -> Response:
    key = require_roles(PRODUCTS_CLIENT)
    media = negotiate()
    sku = _sku(sku)
    values = load_query(_put, request.args, lists=("categories",))
    require_site(key, values["site"])
    try:
        product, created = clickbank.save_site_product(sku, values, key.sites)
    except clickbank.OutsideSites:
        raise RestError(403, OUTSIDE_SITES) from None
    return respond(media, "product", {"@sku": product.sku}, 201 if created else 200)


@bp.delete("/products/<sku>")
def delete_product(sku: str) -> Response:
    key = require_roles(PRODUCTS_CLIENT)
    negotiate()
    values = load_query(_site, request.args)
    clickbank.delete_site_product(require_site(key, values["site"]), _sku(sku))
    return Response(status=204)
