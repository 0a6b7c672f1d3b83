"""Every /admin route: a stranger is sent to sign in, a form without its CSRF token is refused,
and a staff user cannot reach the owner's pages. The routes are read from the app, so a page
added later is covered too."""

from __future__ import annotations

import tempfile

import pytest

from affsrv import create_app
from tests.helpers import add_affiliate, add_product
from tests.web.support import csrf_token, merchant_client

SAMPLE = {"code": "ann", "product_id": "1", "commission_id": "1", "key_id": "1",
          "action": "approve", "nickname": "myshop", "subscription_id": "1",
          "message_id": "1"}


def _admin_routes() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as logs:
        app = create_app(overrides={"database": {"url": "sqlite:///:memory:"},
                                    "logs": {"dir": logs}})
        app.extensions["click_buffer"].stop()
        app.extensions["affsrv_logs"].close()
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", SAMPLE[name]).replace(
                f"<int:{name}>", SAMPLE[name])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


ROUTES = _admin_routes()
POSTS = [path for method, path in ROUTES if method == "POST"]


def test_the_dashboard_has_the_pages_it_lists():
    paths = {path for _m, path in ROUTES}
    assert {"/admin/affiliates", "/admin/commissions", "/admin/payouts", "/admin/payments",
            "/admin/products", "/admin/keys", "/admin/commissions.csv",
            "/admin/payments.csv", "/admin/payouts/paypal.csv", "/admin/accounts",
            "/admin/accounts/myshop", "/admin/notifications", "/admin/notifications/1",
            "/admin/notifications/1/messages/1/resend", "/admin/keys/clerk",
            "/admin/keys/reporting", "/admin/settings"} <= paths
    assert len(POSTS) >= 10


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_stranger_is_sent_to_sign_in(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", POSTS)
def test_a_form_without_its_csrf_token_is_refused(app, path):
    add_affiliate(app, code="ann", pending=True)
    add_product(app)
    client = merchant_client(app)
    response = client.post(path, data={"action": "approve", "id": "1", "affiliate": "ann",
                                       "name": "X", "url": "https://x.example/"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_staff_cannot_manage_api_keys(app):
    client = merchant_client(app, role="staff")
    assert client.get("/admin/keys").status_code == 403
    token = csrf_token(client, "/admin/payouts")
    assert client.post("/admin/keys", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/keys/1/revoke", data={"csrf_token": token}).status_code == 403
    assert "API keys" not in client.get("/admin/affiliates").get_data(as_text=True)
    assert client.get("/admin/payouts").status_code == 200
