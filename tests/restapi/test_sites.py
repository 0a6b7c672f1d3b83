"""A clerk key reaches only its own sites (accounts): two sites, two keys; whatever the other
site's key asks of this site's products, orders and customers, it gets the answer it gets
for something that does not exist, naming nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from affsrv.extensions import db
from affsrv.restapi.auth import OUTSIDE_SITES
from affsrv.shipping.models import ShipNotice
from tests.restapi.conftest import Rest, add_orders
from tests.restapi.test_products import DIGITAL

A, B = "shopa", "shopb"
A_SKU, B_SKU = "A-BOOK", "B-BOOK"
A_RECEIPT, B_RECEIPT = "RCPT0000000", "RCPT0000100"
A_EMAIL = "buyer0@example.com"  # add_orders: buyer{n}@example.com
# What must never appear in an answer to site B's key: site A's name, its product and its
# orders' receipt, buyer and e-mail.
A_SECRETS = (A, "A-BOOK", "The A Book", A_RECEIPT, A_EMAIL, "Ann Lee", "Ann")


@pytest.fixture
def two_sites(app, client, clerk):
    """Site A and site B, each with a key (every role), a product and two physical orders;
    A's first order has a ship notice."""
    key_a = Rest(client, {"Authorization": clerk(sites=(A,))})
    key_b = Rest(client, {"Authorization": clerk(sites=(B,))})
    assert key_a("PUT", f"products/{A_SKU}", **{**DIGITAL, "site": A,
                                                  "title": "The A Book"}).status_code == 201
    assert key_b("PUT", f"products/{B_SKU}", **{**DIGITAL, "site": B,
                                                  "title": "The B Book"}).status_code == 201
    add_orders(app, 2, account=A, vendor=A)
    add_orders(app, 2, first=100, account=B, vendor=B, billing_first_name="Bea",
               billing_last_name="Bo", billing_full_name="Bea Bo", shipping_first_name="Bea",
               shipping_last_name="Bo", shipping_full_name="Bea Bo")
    r = key_a("POST", f"shipping2/shipnotice/{A_RECEIPT}", date="2024-03-02", carrier="UPS",
              tracking="1ZA")
    assert r.status_code == 200, r.data
    return key_a, key_b


def _clean(r, sent: str = "") -> str:
    """The body, checked to hold none of site A's secrets but the one the client sent."""
    text = r.get_data(as_text=True)
    for secret in (s for s in A_SECRETS if s != sent):
        assert secret.lower() not in text.lower(), (secret, text)
    return text


def _ship_notices(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ShipNotice.id)))


# Each call site B's key makes at site A's things, and the same call at something that does
# not exist anywhere: the answers must be the same (status and body, the name sent aside).
PRODUCT_CALLS = [
    ("GET", f"products/{A_SKU}", {"site": A}, "products/NOPE", {"site": "nosuchsite"}),
    ("GET", f"products/{A_SKU}", {"site": B}, "products/NOPE", {"site": B}),
    ("GET", "products/list", {"site": A}, "products/list", {"site": "nosuchsite"}),
    ("GET", "products/list", {"site": "SHOPA"}, "products/list", {"site": "nosuchsite"}),
    ("DELETE", f"products/{A_SKU}", {"site": A}, "products/NOPE", {"site": "nosuchsite"}),
    ("DELETE", f"products/{A_SKU}", {"site": B}, "products/NOPE", {"site": B}),
    ("PUT", f"products/{A_SKU}", {**DIGITAL, "site": A},
     "products/NOPE", {**DIGITAL, "site": "nosuchsite"}),
]


@pytest.mark.parametrize(("method", "path", "params", "none_path", "none_params"),
                         PRODUCT_CALLS)
def test_the_other_sites_key_gets_the_answer_for_nothing_on_products(
        two_sites, method, path, params, none_path, none_params):
    _, key_b = two_sites
    r = key_b(method, path, **params)
    nothing = key_b(method, none_path, **none_params)
    assert r.status_code == nothing.status_code and r.status_code in (403, 404), r.data
    assert _clean(r, A_SKU) == nothing.get_data(as_text=True).replace("NOPE", A_SKU)


def test_a_put_of_the_other_sites_sku_is_the_uniform_403_and_changes_nothing(two_sites, app):
    key_a, key_b = two_sites
    for site in (B, A):  # into B's own site, and straight into A's
        r = key_b("PUT", f"products/{A_SKU}", **{**DIGITAL, "site": site, "title": "Mine now",
                                                  "pitchPage": "https://evil.example/",
                                                  "purchaseCommission": "100"})
        assert r.status_code == 403 and _clean(r) == OUTSIDE_SITES + "\n"
    r = key_b("PUT", "products/FRESH-1", **{**DIGITAL, "site": A})
    assert r.status_code == 403 and _clean(r) == OUTSIDE_SITES + "\n"
    product = key_a("GET", f"products/{A_SKU}", site=A).json
    assert product["title"] == "The A Book" and product["status"] == "ACTIVE"
    assert product["pitch_pages"] == {"desktop": DIGITAL["pitchPage"]}
    assert key_a("GET", "products/FRESH-1", site=A).status_code == 404


def test_the_other_sites_key_cannot_delete(two_sites):
    key_a, key_b = two_sites
    key_b("DELETE", f"products/{A_SKU}", site=A)
    key_b("DELETE", f"products/{A_SKU}", site=B)
    assert key_a("GET", f"products/{A_SKU}", site=A).json["status"] == "ACTIVE"


def test_lists_and_counts_hold_only_the_keys_own_orders_and_customers(two_sites):
    key_a, key_b = two_sites
    for path, root, in (("orders2/list", "orderData"), ("shipping2/list", "orderShipData2")):
        r = key_b("GET", path, startDate="2024-01-01", endDate="2024-12-31")
        assert r.status_code == 200
        _clean(r)
        assert [o["receipt"] for o in r.json[root]] == [B_RECEIPT, "RCPT0000101"]
        xml = key_b("GET", path, json=False, startDate="2024-01-01", endDate="2024-12-31")
        _clean(xml)
        mine = key_a("GET", path, startDate="2024-01-01", endDate="2024-12-31").json[root]
        assert [o["receipt"] for o in mine] == [A_RECEIPT, "RCPT0000001"]
    window = dict(startDate="2024-01-01", endDate="2024-12-31")
    assert key_b("GET", "orders2/count", **window).data == b"2"
    assert key_b("GET", "shipping2/count", **window).data == b"2"
    assert key_b("GET", "shipping2/count", status="shipped", **window).data == b"0"
    assert key_a("GET", "shipping2/count", status="shipped", **window).data == b"1"
    # Filters on another account's customers find nothing.
    for params in ({"email": A_EMAIL}, {"vendor": A}, {"lastName": "Lee"}):
        assert key_b("GET", "orders2/count", **params).data == b"0", params
        assert key_b("GET", "orders2/list", **params).json == {"orderData": []}
    assert key_b("GET", "shipping2/list", receipt=A_RECEIPT).json == {"orderShipData2": []}
    assert key_b("GET", "shipping2/count", receipt=A_RECEIPT).data == b"0"


# Receipt methods: site A's receipt, and a receipt nobody has.
RECEIPT_CALLS = [
    ("GET", "orders2/{}", {}),
    ("GET", "orders2/{}", {"sku": "SKU1"}),
    ("HEAD", "orders2/{}", {}),
    ("GET", "shipping2/shipnotice/{}", {}),
    ("POST", "shipping2/shipnotice/{}", {"date": "2024-03-03", "carrier": "DHL",
                                          "tracking": "HIJACK"}),
]


@pytest.mark.parametrize(("method", "path", "params"), RECEIPT_CALLS)
def test_the_other_sites_receipt_is_answered_as_one_that_does_not_exist(two_sites, app,
                                                                         method, path, params):
    key_a, key_b = two_sites
    notices = _ship_notices(app)
    r = key_b(method, path.format(A_RECEIPT), **params)
    nothing = key_b(method, path.format("NOSUCH"), **params)
    assert r.status_code == nothing.status_code, r.data
    assert _clean(r, A_RECEIPT) == nothing.get_data(as_text=True).replace("NOSUCH", A_RECEIPT)
    assert _ship_notices(app) == notices
    own = key_a(method, path.format(A_RECEIPT), **params)  # its own key is answered
    assert own.status_code in (200, 204)
    assert (own.status_code, own.data) != (r.status_code, r.data)


def test_a_key_with_several_sites_reads_them_all(app, client, clerk, two_sites):
    both = Rest(client, {"Authorization": clerk(sites=(A, B))})
    window = dict(startDate="2024-01-01", endDate="2024-12-31")
    assert both("GET", "orders2/count", **window).data == b"4"
    assert both("GET", f"products/{A_SKU}", site=A).status_code == 200
    assert both("GET", f"products/{B_SKU}", site=B).status_code == 200


def test_pages_remembered_for_one_key_are_not_used_for_another(app, client, clerk):
    """The keyset cursors of a list are per site set: another key asking for page 2 of the
    same query gets its own page 2."""
    add_orders(app, 150, account=A)
    add_orders(app, 150, first=1000, account=B)
    key_a = Rest(client, {"Authorization": clerk(sites=(A,))})
    key_b = Rest(client, {"Authorization": clerk(sites=(B,))})
    assert key_b("GET", "orders2/list").status_code == 206
    assert key_a("GET", "orders2/list").status_code == 206  # the last page 1 served
    second = key_b("GET", "orders2/list", page=2)
    assert second.status_code == 200
    receipts = [o["receipt"] for o in second.json["orderData"]]
    assert receipts == [f"RCPT{n:07d}" for n in range(1100, 1150)]


def _cli(app, *args):
    from affsrv.cli import cli

    return app.test_cli_runner().invoke(cli, list(args))


def test_a_cli_product_is_not_the_rest_apis_until_the_merchant_assigns_it(app, client, clerk):
    r = _cli(app, "product", "add", "--name", "Old", "--url", "https://shop.example/old",
             "--sku", "OLD-1", "--rate", "10")
    assert r.exit_code == 0, r.output
    pid = r.output.split()[-1]
    assert _cli(app, "product", "disable", pid).exit_code == 0
    key = Rest(client, {"Authorization": clerk(sites=(A,))})
    takeover = {**DIGITAL, "site": A, "pitchPage": "https://evil.example/",
                "purchaseCommission": "100"}
    assert key("GET", "products/OLD-1", site=A).status_code == 404
    assert "OLD-1" not in key("GET", "products/list", site=A).get_data(as_text=True)
    r = key("PUT", "products/OLD-1", **takeover)
    assert r.status_code == 403 and r.get_data(as_text=True) == OUTSIDE_SITES + "\n"
    assert key("DELETE", "products/OLD-1", site=A).status_code == 404
    listed = _cli(app, "product", "list").output
    assert "https://shop.example/old" in listed and "evil" not in listed
    assert "10%" in listed and listed.splitlines()[1].split()[-2:] == ["no", "merchant"]

    r = _cli(app, "product", "edit", pid, "--site", "ShopA")
    assert r.exit_code == 0 and "site: shopa" in r.output, r.output
    assert "shopa" in _cli(app, "product", "list").output
    product = key("GET", "products/OLD-1", site=A).json
    assert product["id"] == pid and product["status"] == "INACTIVE"
    # Assigned: the site's key may update it, but the merchant's disable stands.
    assert key("PUT", "products/OLD-1", **takeover).status_code == 200
    assert key("GET", "products/OLD-1", site=A).json["status"] == "INACTIVE"
    assert key("DELETE", "products/OLD-1", site=A).status_code == 204
    assert key("PUT", "products/OLD-1", **takeover).status_code == 201
    assert key("GET", "products/OLD-1", site=A).json["status"] == "INACTIVE"
    assert _cli(app, "product", "enable", pid).exit_code == 0
    assert key("GET", "products/OLD-1", site=A).json["status"] == "ACTIVE"

    r = _cli(app, "product", "edit", pid, "--no-site")
    assert r.exit_code == 0 and "(none: not reachable by the REST API)" in r.output
    assert key("GET", "products/OLD-1", site=A).status_code == 404
    assert key("PUT", "products/OLD-1", **DIGITAL | {"site": A}).status_code == 403


def test_product_edit_refusals(app):
    pid = _cli(app, "product", "add", "--name", "N", "--url", "https://shop.example/",
               ).output.split()[-1]
    r = _cli(app, "product", "edit", pid, "--site", "shopa")
    assert r.exit_code == 1 and "has no SKU" in r.output
    assert _cli(app, "product", "edit", pid).exit_code == 2
    assert _cli(app, "product", "edit", pid, "--site", "a", "--no-site").exit_code == 2
    sku = _cli(app, "product", "add", "--name", "N", "--url", "https://shop.example/",
               "--sku", "S-1").output.split()[-1]
    r = _cli(app, "product", "edit", sku, "--site", "bad site")
    assert r.exit_code == 1 and "ClickBank account nickname" in r.output
    assert _cli(app, "product", "edit", "999", "--site", "a").exit_code == 1


def test_a_rest_deleted_product_comes_back_enabled_on_put(two_sites):
    key_a, _ = two_sites
    assert key_a("DELETE", f"products/{A_SKU}", site=A).status_code == 204
    assert key_a("PUT", f"products/{A_SKU}", **{**DIGITAL, "site": A}).status_code == 201
    assert key_a("GET", f"products/{A_SKU}", site=A).json["status"] == "ACTIVE"


def test_a_key_whose_sites_were_all_taken_is_refused_saying_what_to_do(app, client, clerk):
    from affsrv.clerkkeys.models import ClerkKeySite

    key = Rest(client, {"Authorization": clerk(sites=(A,))})
    with app.app_context():  # as the migration leaves a key made before sites existed
        db.session.execute(ClerkKeySite.__table__.delete())
        db.session.commit()
    for method, path, params in (("GET", "orders2/count", {}),
                                 ("GET", "products/list", {"site": A})):
        r = key(method, path, **params)
        assert r.status_code == 403 and "belongs to no site" in r.get_data(as_text=True)


def test_a_key_of_two_sites_moves_a_sku_only_after_deleting_it(client, clerk):
    both = Rest(client, {"Authorization": clerk(sites=(A, B))})
    assert both("PUT", "products/MOVE-1", **{**DIGITAL, "site": A}).status_code == 201
    r = both("PUT", "products/MOVE-1", **{**DIGITAL, "site": B})
    assert r.status_code == 409 and "delete it there first" in r.get_data(as_text=True)
    assert both("DELETE", "products/MOVE-1", site=A).status_code == 204
    assert both("PUT", "products/MOVE-1", **{**DIGITAL, "site": B}).status_code == 201
    assert both("GET", "products/MOVE-1", site=B).json["status"] == "ACTIVE"
    assert both("GET", "products/MOVE-1", site=A).status_code == 404
