"""A query parameter a REST method does not take is a 400 naming it, on every method: a
misspelt filter (``emial``, ``stauts``) must not answer as if no filter had been given."""

from __future__ import annotations

import pytest

from tests.restapi.conftest import add_orders
from tests.restapi.test_products import DIGITAL

WINDOW = {"startDate": "2024-03-01", "endDate": "2024-03-31"}
NOTICE = {"date": "2024-03-02", "carrier": "UPS", "tracking": "1Z"}

# Every REST method (rule, method), valid parameters, and misspellings of its own parameters
# (or of another method's) that it must refuse by name.
ROUTES = [
    ("/rest/1.3/products/list", "GET", {"site": "myshop"}, ["tpye", "Site", "pages"]),
    ("/rest/1.3/products/<sku>", "GET", {"site": "myshop"}, ["sites", "title"]),
    ("/rest/1.3/products/<sku>", "PUT", DIGITAL, ["pitchpage", "colour"]),
    ("/rest/1.3/products/<sku>", "DELETE", {"site": "myshop"}, ["force"]),
    ("/rest/1.3/products/schema", "GET", {}, ["format"]),
    ("/rest/1.3/shipping2/schema", "GET", {}, ["format"]),
    ("/rest/1.3/shipping2/count", "GET", {}, ["stauts", "email"]),
    ("/rest/1.3/shipping2/list", "GET", {}, ["stauts", "startdate"]),
    ("/rest/1.3/shipping2/shipnotice/<receipt>", "POST", NOTICE, ["fillorder", "trackng"]),
    ("/rest/1.3/shipping2/shipnotice/<receipt>", "GET", {}, ["carrier"]),
    ("/rest/1.3/orders2/count", "GET", WINDOW, ["emial", "status", "days"]),
    ("/rest/1.3/orders2/list", "GET", WINDOW, ["emial", "lastname", "postal_code"]),
    ("/rest/1.3/orders2/<receipt>", "GET", {}, ["skus"]),
    ("/rest/1.3/orders2/<receipt>", "HEAD", {}, ["skus"]),
]
CASES = [(rule, method, params, name) for rule, method, params, names in ROUTES
         for name in names]


def _path(rule: str) -> str:
    return rule.replace("<sku>", "BOOK-1").replace("<receipt>", "RCPT0000000")


def test_the_table_covers_every_rest_method(app):
    served = {(rule.rule, method) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("restapi.")
              for method in rule.methods - {"OPTIONS", "HEAD"}}
    served |= {("/rest/1.3/orders2/<receipt>", "HEAD")}  # its own route
    assert served == {(rule, method) for rule, method, _, _ in ROUTES}


@pytest.mark.parametrize(("rule", "method", "params", "name"), CASES)
def test_an_unknown_parameter_is_400_naming_it_and_nothing_is_done(rest, app, rule, method,
                                                                    params, name):
    add_orders(app, 1)
    assert rest("PUT", "products/BOOK-1", **DIGITAL).status_code == 201
    path = _path(rule).removeprefix("/rest/1.3/")
    xml_only = path.endswith("/schema")
    r = rest(method, path, json=not xml_only, **params, **{name: "x"})
    assert r.status_code == 400, (r.status_code, r.data)
    if method != "HEAD":  # a HEAD answer has no body
        assert r.mimetype == "text/plain"
        assert r.get_data(as_text=True) == f"{name}: is not a parameter of this method\n"
    if method == "DELETE":  # refused: not deleted
        assert rest("GET", "products/BOOK-1", site="myshop").status_code == 200
    # Without it the same call is answered (so the 400 is the parameter's doing).
    assert rest(method, path, json=not xml_only, **params).status_code < 300


def test_the_misspellings_from_the_review(rest, app):
    add_orders(app, 2)
    r = rest("GET", "orders2/count", emial="buyer0@example.com")
    assert r.status_code == 400 and "emial: is not a parameter" in r.get_data(as_text=True)
    r = rest("GET", "shipping2/count", stauts="shipped")
    assert r.status_code == 400 and "stauts: is not a parameter" in r.get_data(as_text=True)
    assert rest("GET", "orders2/count", email="buyer0@example.com").data == b"1"
    # The page number is the Page header; as a parameter it is refused, not ignored.
    r = rest.client.get("/rest/1.3/orders2/list?page=2", headers=rest.auth)
    assert r.status_code == 400 and "page: is not a parameter" in r.get_data(as_text=True)


def test_every_unknown_parameter_is_named_with_the_other_problems(rest):
    r = rest("GET", "orders2/list", emial="a", lastname="b", type="NOPE")
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    for part in ("emial: is not a parameter", "lastname: is not a parameter", "type: must be"):
        assert part in text, text
