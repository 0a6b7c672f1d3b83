"""What every page shares: security headers, the vendored assets, the session cookie and the
secret that signs it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from affsrv.extensions import db
from affsrv.web.models import SiteSecret
from affsrv.web.views import CONTENT_SECURITY_POLICY
from tests.helpers import add_affiliate
from tests.web.support import PASSWORD, add_merchant, merchant_client, sign_in

ASSETS = ["/assets/affsrv.css", "/assets/vendor/htmx-2.0.11.min.js",
          "/assets/vendor/echarts-6.1.0.min.js", "/assets/vendor/LICENSE.htmx",
          "/assets/vendor/LICENSE.echarts", "/assets/vendor/NOTICE.echarts"]


def _assert_page_headers(response, https=False):
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert ("Strict-Transport-Security" in headers) is https


@pytest.mark.parametrize("path", ["/login", "/admin/affiliates", "/admin/payouts"])
def test_every_page_has_the_security_headers_and_hsts_only_over_https(app, path):
    client = merchant_client(app)
    _assert_page_headers(client.get(path))
    https = merchant_client(app, email="other@shop.example")
    https_page = https.get(path, base_url="https://localhost")
    _assert_page_headers(https_page, https=True)
    assert https_page.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_pages_carry_no_inline_script_or_style(app):
    client = merchant_client(app)
    for path in ["/login", "/admin/affiliates", "/admin/commissions", "/admin/payouts",
                 "/admin/payments", "/admin/products", "/admin/keys", "/account"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert " onclick=" not in html and "javascript:" not in html
        assert '<script src="/assets/vendor/htmx-2.0.11.min.js" defer></script>' in html


@pytest.mark.parametrize("path", ASSETS)
def test_vendored_assets_are_served_from_the_package_with_the_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert len(response.data) > 100
    _assert_page_headers(response)
    if path.endswith(".js"):
        assert response.mimetype in {"text/javascript", "application/javascript"}


def test_the_landing_link_and_the_api_keep_their_own_headers(client, app):
    """No Referrer-Policy on the landing link's redirect: it would hide the referring page
    from the shop."""
    code = add_affiliate(app)
    landing = client.get(f"/r/{code}")
    assert landing.status_code == 302
    assert "Referrer-Policy" not in landing.headers
    assert "Content-Security-Policy" not in landing.headers
    api = client.post("/api", json={})
    assert "Content-Security-Policy" not in api.headers and "Set-Cookie" not in api.headers
    # They open no session: no secret was needed, none was made.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SiteSecret)) == 0


def test_session_cookie_is_httponly_lax_and_secure_over_https(app):
    add_merchant(app)
    client = app.test_client()
    plain = sign_in(client)
    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith("affsrv_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure_client = app.test_client()
    token_page = secure_client.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      token_page.get_data(as_text=True)).group(1)
    over_https = secure_client.post(
        "/login", base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"csrf_token": token, "email": "owner@shop.example", "password": PASSWORD})
    assert over_https.status_code == 303
    assert "Secure" in over_https.headers["Set-Cookie"]


def test_the_generated_session_secret_is_kept_in_the_database_and_shared(make_app):
    """Two apps (two worker processes) on one database accept each other's sessions."""
    first, second = make_app(), make_app()
    client = merchant_client(first)
    assert client.get("/admin/affiliates").status_code == 200
    cookie = client.get_cookie("affsrv_session")
    other = second.test_client()
    other.set_cookie("affsrv_session", cookie.value)
    assert other.get("/admin/affiliates").status_code == 200
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32


def test_a_configured_secret_key_signs_instead(make_app):
    key = "k" * 40
    app = make_app(web={"secret_key": key})
    client = merchant_client(app)
    assert client.get("/admin/affiliates").status_code == 200
    assert app.secret_key == key
    generated = make_app()
    stranger = generated.test_client()
    stranger.set_cookie("affsrv_session", client.get_cookie("affsrv_session").value)
    assert stranger.get("/admin/affiliates").status_code == 302  # not signed with its key


def test_every_page_route_opens_a_session_and_no_other_route_does(app):
    from affsrv.web.views import is_page_path

    pages = {"users", "admin", "portal"}
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        assert is_page_path(rule.rule) is (blueprint in pages), rule.rule


def test_an_api_request_runs_none_of_the_pages_request_hooks(app, api_key):
    """The pages' hooks (the session's deferred error, CSRF, Flask-Login's cookie, the sign-in
    throttle, the security headers) are on the page blueprints: a Data API call runs only the
    app-wide limiter's three guards and its view (it ran nine hooks). Every hook and view Flask
    runs goes through ``ensure_sync``, which is recorded here."""
    from affsrv.web.views import PAGE_BLUEPRINTS

    code = add_affiliate(app)
    page_hooks = {hook for funcs in (app.before_request_funcs, app.after_request_funcs,
                                     app.teardown_request_funcs)
                  for name in PAGE_BLUEPRINTS for hook in funcs.get(name, ())}
    ran = []
    ensure_sync = app.ensure_sync
    app.ensure_sync = lambda func: ran.append(func) or ensure_sync(func)
    answer = app.test_client().post("/api", json={"apikey": api_key, "affiliate": code,
                                                  "data": {"op": "commissions"}})
    assert answer.status_code == 200 and answer.json["status"] == "ok"
    assert not [hook for hook in ran if hook in page_hooks]
    hooks = [getattr(f, "__qualname__", repr(f)) for f in ran]
    assert [h for h in hooks if h != "api_call"] == [
        "check_only_where_limited.<locals>.check_request_limit",
        "check_only_where_limited.<locals>.deduct_after",
        "check_only_where_limited.<locals>.release",
        "SQLAlchemy._teardown_session",  # the app context's, not a request hook
    ]
    assert "Set-Cookie" not in answer.headers and "X-Frame-Options" not in answer.headers


def test_only_the_listed_page_blueprints_can_be_protected():
    from flask import Blueprint

    from affsrv.web.views import protect

    with pytest.raises(ValueError, match="PAGE_BLUEPRINTS"):
        protect(Blueprint("elsewhere", __name__))


def test_an_extension_registering_unexpected_hooks_stops_the_app(make_app):
    from affsrv.web.views import _page_only

    def registers_a_teardown(app):
        app.teardown_request(lambda _exc: None)

    app = make_app()
    with pytest.raises(RuntimeError, match="registered request hooks"):
        _page_only(app, registers_a_teardown)
