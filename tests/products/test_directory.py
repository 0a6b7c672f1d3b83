"""Each worker's in-memory product directory: read whole on every refresh, a new product found
at once, a change seen within ``[server] cache_seconds``."""

import time

from affsrv.extensions import db
from affsrv.products.directory import find_product, product_directory
from affsrv.products.models import Product
from tests.helpers import add_affiliate, add_product


def test_products_are_loaded_whole_and_a_new_one_is_found_at_once(make_app):
    app = make_app(server={"cache_seconds": 60})
    first = add_product(app, url="https://shop.example/a")
    with app.test_request_context():
        assert find_product(first).landing_url == "https://shop.example/a"
        assert len(product_directory()) == 1
        assert find_product(0) is None and find_product(2**31) is None
    second = add_product(app, url="https://shop.example/b")
    with app.test_request_context():
        assert find_product(second).landing_url == "https://shop.example/b"


def test_a_changed_product_is_seen_after_the_refresh(make_app):
    app = make_app(server={"cache_seconds": 1})
    code = add_affiliate(app)
    pid = add_product(app, url="https://shop.example/old")
    client = app.test_client()
    assert client.get(f"/r/{code}?p={pid}").headers["Location"].startswith(
        "https://shop.example/old?")
    with app.app_context():
        db.session.get(Product, pid).landing_url = "https://shop.example/new"
        db.session.commit()
    # Within cache_seconds the worker may still send visitors to the old URL...
    assert client.get(f"/r/{code}?p={pid}").headers["Location"].startswith(
        "https://shop.example/old?")
    time.sleep(1.2)
    # ...and no longer after it (products have no change mark: each refresh reads them all).
    assert client.get(f"/r/{code}?p={pid}").headers["Location"].startswith(
        "https://shop.example/new?")
