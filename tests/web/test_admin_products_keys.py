"""/admin/products (add, edit, enable, disable) and /admin/keys (create shown once, revoke)."""

from __future__ import annotations

import re
from decimal import Decimal

from affsrv.apikeys.services import is_valid_api_key
from affsrv.extensions import db
from affsrv.products.models import Product
from tests.helpers import add_product
from tests.web.support import csrf_token, merchant_client, post_form


def _product(app, pid):
    with app.app_context():
        return db.session.get(Product, pid)


def test_add_a_product_and_refusals(app):
    client = merchant_client(app)
    added = post_form(client, "/admin/products", "/admin/products", name="Course",
                      url="https://shop.example/course", sku="CRS-1", commission_rate="25")
    assert added.status_code == 303
    with app.app_context():
        product = db.session.query(Product).filter_by(sku="CRS-1").one()
        assert (product.name, product.landing_url, product.commission_rate, product.enabled) == (
            "Course", "https://shop.example/course", Decimal("25.000"), True)
    page = client.get("/admin/products").get_data(as_text=True)
    assert "Course" in page and "25%" in page
    twice = post_form(client, "/admin/products", "/admin/products", name="Other",
                      url="https://shop.example/o", sku="CRS-1")
    assert twice.status_code == 409 and "already exists" in twice.get_data(as_text=True)
    bad_url = post_form(client, "/admin/products", "/admin/products", name="X",
                        url="javascript:alert(1)")
    assert bad_url.status_code == 400
    bad_sku = post_form(client, "/admin/products", "/admin/products", name="X",
                        url="https://shop.example/x", sku="has space")
    assert bad_sku.status_code == 400
    assert post_form(client, "/admin/products", "/admin/products", name="X",
                     url="https://shop.example/x", commission_rate="101").status_code == 400
    with app.app_context():
        assert db.session.query(Product).count() == 1


def test_edit_a_product(app):
    pid = add_product(app, name="Widget", sku="W-1", commission_rate="10")
    client = merchant_client(app)
    page = f"/admin/products/{pid}"
    assert "https://shop.example/widget" in client.get(page).get_data(as_text=True)
    saved = post_form(client, page, page, name="Widget Pro", url="https://shop.example/pro",
                      sku="", commission_rate="12.5")
    assert saved.status_code == 303
    product = _product(app, pid)
    assert (product.name, product.landing_url, product.sku, product.commission_rate) == (
        "Widget Pro", "https://shop.example/pro", None, Decimal("12.500"))
    refused = post_form(client, page, page, name="", url="https://shop.example/pro")
    assert refused.status_code == 400 and _product(app, pid).name == "Widget Pro"
    assert client.get("/admin/products/999").status_code == 404


def test_disable_and_enable_a_product(app):
    pid = add_product(app)
    client = merchant_client(app)
    assert post_form(client, "/admin/products",
                     f"/admin/products/{pid}/disable").status_code == 303
    assert not _product(app, pid).enabled
    assert 'badge no">disabled' in client.get("/admin/products").get_data(as_text=True)
    post_form(client, "/admin/products", f"/admin/products/{pid}/enable")
    assert _product(app, pid).enabled
    assert post_form(client, "/admin/products", "/admin/products/999/enable").status_code == 404


def test_an_api_key_is_shown_once_and_can_be_revoked(app):
    client = merchant_client(app)
    created = post_form(client, "/admin/keys", "/admin/keys", label="shop")
    assert created.status_code == 200
    key = re.search(r'id="new-key">([^<]+)<', created.get_data(as_text=True)).group(1)
    with app.app_context():
        assert is_valid_api_key(key)
    later = client.get("/admin/keys").get_data(as_text=True)
    assert key not in later and key[7:13] in later and "shop" in later
    assert "Set-Cookie" not in created.headers or key not in created.headers["Set-Cookie"]
    key_id = re.search(r'id="key-(\d+)"', later).group(1)
    revoked = client.post(f"/admin/keys/{key_id}/revoke",
                          data={"csrf_token": csrf_token(client, "/admin/keys")})
    assert revoked.status_code == 303
    with app.app_context():
        assert not is_valid_api_key(key)
    assert "revoked" in client.get("/admin/keys").get_data(as_text=True)
    assert post_form(client, "/admin/keys", "/admin/keys/999/revoke").status_code == 404
    too_long = post_form(client, "/admin/keys", "/admin/keys", label="x" * 101)
    assert too_long.status_code == 400
