"""Malformed input gets 400 (or 406 for an Accept type no method produces) with a reason,
never a 500, on every endpoint."""

import pytest

from tests.restapi.conftest import add_orders

LISTS = ["shipping2/list", "shipping2/count", "orders2/list", "orders2/count"]
BAD_QUERIES = [
    {"startDate": "2024-02-30", "endDate": "2024-03-01"},
    {"startDate": "yesterday", "endDate": "2024-03-01"},
    {"startDate": "2024-3-1", "endDate": "2024-03-01"},
    {"startDate": "0000-01-01", "endDate": "2024-03-01"},
    {"startDate": "2024-03-01", "endDate": "9999-12-31"},
    {"startDate": "2024-03-02", "endDate": "2024-03-01"},
    {"startDate": "2024-03-01\x00", "endDate": "2024-03-02"},
    {"startDate": "２０２４-03-01", "endDate": "2024-03-02"},
]
SHIPPING_ONLY = [{"days": "-1"}, {"days": "abc"}, {"days": "1e3"}, {"days": "1.5"},
                 {"days": "99999999999999999999"}, {"days": "36501"}, {"status": "sent"},
                 {"status": ""}, {"receipt": "x" * 65}, {"days": ["1", "2"]}]
ORDERS_ONLY = [{"type": "SELL"}, {"role": "BOSS"}, {"amount": "ten"}, {"amount": "1e9"},
               {"amount": "99999999999999999.99"}, {"email": "a\x00b"}, {"item": "x" * 65}]
BAD_PAGES = ["abc", "0", "-1", "1.5", "99999999999", "", "²", "1 2"]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("params", BAD_QUERIES)
def test_bad_dates_are_400(rest, path, params):
    r = rest("GET", path, **params)
    assert r.status_code == 400 and r.mimetype == "text/plain", r.data
    assert r.get_data(as_text=True).strip()


@pytest.mark.parametrize("path", ["shipping2/list", "shipping2/count"])
@pytest.mark.parametrize("params", SHIPPING_ONLY)
def test_bad_shipping_parameters_are_400(rest, path, params):
    r = rest("GET", path, **params)
    assert r.status_code == 400 and r.get_data(as_text=True).strip(), params


@pytest.mark.parametrize("path", ["orders2/list", "orders2/count"])
@pytest.mark.parametrize("params", ORDERS_ONLY)
def test_bad_order_parameters_are_400(rest, path, params):
    r = rest("GET", path, **params)
    assert r.status_code == 400 and r.get_data(as_text=True).strip(), params


@pytest.mark.parametrize("path", ["shipping2/list", "orders2/list", "products/list"])
@pytest.mark.parametrize("page", [p for p in BAD_PAGES if p])
def test_bad_page_headers_are_400(rest, path, page):
    params = {"site": "myshop"} if path.startswith("products") else {}
    r = rest("GET", path, page=page, **params)
    assert r.status_code == 400 and "Page header" in r.get_data(as_text=True)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_sku_with_a_trailing_newline_is_400(rest, app, method):
    r = rest(method, "products/BOOK-1%0A", site="myshop")
    assert r.status_code == 400 and "sku:" in r.get_data(as_text=True), r.data


def test_an_empty_page_header_means_page_one(rest, app):
    add_orders(app, 1)
    assert rest("GET", "orders2/list", page="").status_code == 200


@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", "products/A", {"site": "s"}),
    ("PUT", "products/A", {"site": "s"}),
    ("DELETE", "products/A", {"site": "s"}),
    ("GET", "products/list", {"site": "s"}),
    ("GET", "shipping2/list", {}),
    ("GET", "shipping2/count", {}),
    ("POST", "shipping2/shipnotice/R", {}),
    ("GET", "shipping2/shipnotice/R", {}),
    ("GET", "orders2/list", {}),
    ("GET", "orders2/count", {}),
    ("GET", "orders2/R", {}),
])
def test_every_endpoint_survives_garbage(rest, app, method, path, params):
    add_orders(app, 3)
    assert rest(method, path, headers={"Accept": "image/png"}, **params).status_code == 406
    for junk in ({"Page": "abc"}, {"Page": "0"}):
        r = rest(method, path, headers=junk, **params)
        assert r.status_code < 500, (junk, r.data)
    for query in ({"site": "s\x00"}, {"site": "s" * 5000, "date": "2024-99-01"},
                  {"startDate": "x", "days": "-5", "status": "?", "type": "?"},
                  {"site": ["a", "b"]}, {"price": "NaN", "site": "s", "image": "2147483648"},
                  {"carrier": "\x00", "tracking": "x", "date": "2024-03-01"}):
        r = rest(method, path, **{**params, **query})
        assert r.status_code < 500, (query, r.data)
    for bad_path in (path + "%00", path + "x" * 300):
        assert rest(method, bad_path, **params).status_code < 500


@pytest.mark.parametrize("path", ["products/schema", "shipping2/schema"])
def test_schema_endpoints_refuse_json(client, path):
    r = client.get(f"/rest/1.3/{path}", headers={"Accept": "application/json"})
    assert r.status_code == 406


def test_undecodable_query_bytes_are_not_a_500(rest, client, auth):
    for path in ("orders2/list?email=%FF%FE", "shipping2/list?receipt=%C0",
                 "products/A?site=%FF"):
        r = client.get(f"/rest/1.3/{path}", headers={**auth, "Accept": "application/json"})
        assert r.status_code < 500, path
