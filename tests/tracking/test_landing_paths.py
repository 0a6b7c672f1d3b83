"""Whatever follows /r/, a landing path answers a 302 to a configured URL: never a 404 page,
never a redirect built from the request's Host header (issue 19: /r/bob%0a got Werkzeug's 404
page, /r//x with a forged Host was redirected to that host)."""

import pytest

from affsrv.tracking.models import Click
from tests.helpers import add_affiliate, count_rows, log_records

DEFAULT = "https://shop.example/start"
PATHS = [
    "/r/bob%0a", "/r/bob%0d%0aLocation:%20https://evil.example/", "/r//x", "/r//bob",
    "/r///", "/r/", "/r", "/r/%00", "/r/bob%00", "/r/%ff%fe", "/r/" + "b" * 5000,
    "/r/" + "%0a" * 100, "/r/..", "/r/../api", "/r/bob/", "/r/a%2fb", "/r/%e2%80%a8",
]


@pytest.fixture
def shop(make_app):
    app = make_app(tracking={"default_url": DEFAULT})
    add_affiliate(app, code="bob")
    return app


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_path_that_is_no_code_lands_on_the_default_url(shop, path, method):
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    r = shop.test_client().open(path, method=method, headers=forged)
    assert (r.status_code, r.headers["Location"]) == (302, DEFAULT)
    assert r.headers.getlist("Set-Cookie") == []
    assert count_rows(shop, Click) == 0
    if method == "GET":
        assert log_records(shop, "referral")[-1]["event"] == "landing refused"


def test_behind_a_trusted_proxy_a_forged_host_changes_nothing(make_app):
    app = make_app(tracking={"default_url": DEFAULT}, server={"trusted_proxies": 1})
    for path in ("/r//x", "/r/bob%0a", "/r"):
        r = app.test_client().get(path, headers={"X-Forwarded-Host": "evil.example",
                                                 "Host": "evil.example"})
        assert (r.status_code, r.headers["Location"]) == (302, DEFAULT)


def test_a_valid_code_still_lands_with_its_cookie(shop):
    r = shop.test_client().get("/r/bob", headers={"Host": "evil.example"})
    assert (r.status_code, r.headers["Location"]) == (302, DEFAULT + "?maff=bob")
    assert count_rows(shop, Click) == 1
