"""Clerk keys in the Authorization header, their roles, and the 403 answers."""

import pytest

from affsrv.clerkkeys.services import ORDER_READ, ORDER_WRITE, PRODUCTS_CLIENT, revoke_clerk_key
from tests.restapi.conftest import add_orders

# One call per role-guarded method, with the role(s) it needs.
CALLS = [
    ("GET", "/rest/1.3/products/list?site=myshop", {PRODUCTS_CLIENT}),
    ("GET", "/rest/1.3/products/X1?site=myshop", {PRODUCTS_CLIENT}),
    ("PUT", "/rest/1.3/products/X1?site=myshop", {PRODUCTS_CLIENT}),
    ("DELETE", "/rest/1.3/products/X1?site=myshop", {PRODUCTS_CLIENT}),
    ("GET", "/rest/1.3/shipping2/list", {ORDER_READ}),
    ("GET", "/rest/1.3/shipping2/count", {ORDER_READ}),
    ("POST", "/rest/1.3/shipping2/shipnotice/R1?date=2024-03-02&carrier=UPS&tracking=1",
     {ORDER_READ, ORDER_WRITE}),
    ("GET", "/rest/1.3/orders2/list", {ORDER_READ}),
    ("GET", "/rest/1.3/orders2/count", {ORDER_READ}),
    ("GET", "/rest/1.3/orders2/R1", {ORDER_READ}),
]


def _call(client, method, url, header=None):
    headers = {"Accept": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    return client.open(url, method=method, headers=headers)


@pytest.mark.parametrize(("method", "url", "_roles"), CALLS)
def test_missing_header_is_403_plain_text(client, method, url, _roles):
    r = _call(client, method, url)
    assert r.status_code == 403 and r.mimetype == "text/plain"
    assert "missing Authorization" in r.get_data(as_text=True)


@pytest.mark.parametrize(("method", "url", "_roles"), CALLS)
def test_wrong_key_is_403(client, clerk, method, url, _roles):
    good = clerk()
    dev, api = good.split(":")
    for header in ("API-NOPE", f"{dev}:API-NOPE", f"DEV-NOPE:{api}", "Bearer x", "API-",
                   f"{api}:{api}", f"{dev}:{api}:{api}", ""):
        r = _call(client, method, url, header)
        assert r.status_code == 403 and r.mimetype == "text/plain", header


@pytest.mark.parametrize(("method", "url", "roles"), CALLS)
def test_a_key_lacking_the_role_is_403_and_one_with_it_passes(client, clerk, method, url,
                                                              roles):
    from affsrv.clerkkeys.services import ROLES

    for missing in roles:
        header = clerk(*[r for r in ROLES if r != missing])
        r = _call(client, method, url, header)
        assert r.status_code == 403, missing
        assert missing in r.get_data(as_text=True)
    r = _call(client, method, url, clerk(*roles))
    assert r.status_code != 403, r.data


def test_both_orders_and_the_single_key_form_are_accepted(client, clerk, app):
    add_orders(app, 1)
    header = clerk(ORDER_READ)
    dev, api = header.split(":")
    assert dev.startswith("DEV-") and api.startswith("API-")
    for form in (header, f"{api}:{dev}", api, f" {dev} : {api} "):
        r = _call(client, "GET", "/rest/1.3/orders2/count", form)
        assert r.status_code == 200 and r.data == b"1", form


def test_a_revoked_key_is_403(client, clerk, app):
    header = clerk(ORDER_READ)
    with app.app_context():
        from affsrv.clerkkeys.services import list_clerk_keys

        revoke_clerk_key(list_clerk_keys()[-1].id)
    assert _call(client, "GET", "/rest/1.3/orders2/count", header).status_code == 403


def test_schema_endpoints_need_no_key(client):
    for name in ("products", "shipping2"):
        r = client.get(f"/rest/1.3/{name}/schema")
        assert r.status_code == 200 and r.mimetype == "application/xml"
        assert r.data.startswith(b"<xs:schema")


def test_calls_are_logged_without_the_key_when_the_api_log_is_on(make_app, tmp_path):
    from affsrv.clerkkeys.services import create_clerk_key

    app = make_app(logs={"api": True, "dir": str(tmp_path / "apilogs")})
    with app.app_context():
        header = create_clerk_key(["api_order_read"], sites=["myshop"])[1]
    app.test_client().get("/rest/1.3/orders2/count", headers={"Authorization": header})
    text = (tmp_path / "apilogs" / "api.log").read_text()
    assert "/rest/1.3/orders2/count" in text and "200" in text
    assert header.split(":")[1][4:] not in text and header.split(":")[0][4:] not in text
