"""The landing link: click, server-side cookie, redirect to configured URLs only."""

import time
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select, text

from affsrv.extensions import db
from affsrv.tracking.models import Click, ReferralLink
from tests.helpers import add_affiliate, add_product, count_rows, log_records


def _cookie(response, name="maff"):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers
    morsel = SimpleCookie(headers[0])[name]
    return morsel, headers[0]


def _clicks(app):
    with app.app_context():
        return db.session.execute(
            select(Click.affiliate_id, Click.product_id, ReferralLink.url, Click.ip,
                   Click.user_agent).join(ReferralLink)
        ).all()


def test_landing_counts_the_click_sets_cookie_and_redirects(app, client):
    code = add_affiliate(app)
    pid = add_product(app, url="https://shop.example/widget?color=red")
    r = client.get(f"/r/{code}?p={pid}", headers={"Referer": "https://blog.example/post",
                                                   "User-Agent": "UA/1.0"})
    assert r.status_code == 302
    assert r.headers["Location"] == f"https://shop.example/widget?color=red&maff={code}"
    morsel, raw = _cookie(r)
    assert morsel.value == code
    assert morsel["max-age"] == str(60 * 86400)
    assert morsel["httponly"] is True and morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert "Secure" not in raw and "Domain" not in raw
    assert _clicks(app) == [(1, pid, "https://blog.example/post", "127.0.0.1", "UA/1.0")]


def test_a_head_request_gets_the_same_answer_but_counts_no_click(app, client):
    """Link checkers, e-mail scanners and previews ask with HEAD; only a GET is a visit."""
    code = add_affiliate(app)
    pid = add_product(app)
    head = client.head(f"/r/{code}?p={pid}", headers={"Referer": "https://blog.example/"})
    get = client.get(f"/r/{code}?p={pid}", headers={"Referer": "https://blog.example/"})
    assert head.status_code == get.status_code == 302
    assert head.headers["Location"] == get.headers["Location"]
    assert _cookie(head)[0].value == code
    assert len(_clicks(app)) == 1


def test_https_cookie_is_secure_and_uses_configured_domain_and_days(make_app):
    app = make_app(tracking={"cookie_domain": ".shop.example", "cookie_days": 90,
                             "cookie_name": "aff", "param": "ref"})
    code = add_affiliate(app)
    r = app.test_client().get(f"/r/{code}", base_url="https://go.shop.example")
    morsel, raw = _cookie(r, "aff")
    # RFC 6265: "Domain=shop.example" covers the subdomains, as ".shop.example" did.
    assert morsel["secure"] is True and morsel["domain"] == "shop.example"
    assert morsel["max-age"] == str(90 * 86400)
    assert r.headers["Location"] == f"https://shop.example/?ref={code}"


def test_without_product_redirects_to_default_url_and_counts(app, client):
    code = add_affiliate(app)
    r = client.get(f"/r/{code}")
    assert r.headers["Location"] == f"https://shop.example/?maff={code}"
    assert [c[:4] for c in _clicks(app)] == [(1, None, "", "127.0.0.1")]


def test_existing_param_is_replaced_not_duplicated(app, client):
    code = add_affiliate(app)
    pid = add_product(app, url="https://shop.example/p?maff=someone-else&x=1")
    r = client.get(f"/r/{code}?p={pid}")
    assert r.headers["Location"] == f"https://shop.example/p?x=1&maff={code}"


def _assert_refused_landing(app, r, reason):
    """Lands on the default URL, with no cookie, no click, and the reason in referral.log."""
    assert r.status_code == 302 and r.headers["Location"] == "https://shop.example/"
    assert r.headers.getlist("Set-Cookie") == []
    assert count_rows(app, Click) == 0
    record = log_records(app, "referral")[-1]
    assert record["event"] == "landing refused" and record["reason"] == reason


@pytest.mark.parametrize("code", ["ghost", "bad code", "x" * 65, "%00", "a/b"])
def test_unknown_code_no_cookie_no_click_default_url_and_logged(app, client, code):
    add_affiliate(app)
    pid = add_product(app)
    r = client.get(f"/r/{code}?p={pid}")
    _assert_refused_landing(app, r, "unknown affiliate code")


@pytest.mark.parametrize("path", ["/r/", "/r/?p=1", "/r"])
def test_link_without_a_code_lands_on_the_default_url_and_is_logged(app, client, path):
    add_product(app)
    r = client.get(path, follow_redirects=False)
    _assert_refused_landing(app, r, "missing affiliate code")


def test_disabled_affiliate_is_like_unknown(app, client):
    from affsrv.affiliates.services import set_enabled

    code = add_affiliate(app)
    with app.app_context():
        set_enabled(code, False)
    r = client.get(f"/r/{code}")
    assert r.headers["Location"] == "https://shop.example/"
    assert r.headers.getlist("Set-Cookie") == [] and count_rows(app, Click) == 0


def test_unapproved_affiliate_does_not_count_when_approval_required(make_app):
    app = make_app(affiliates={"require_approval": True})
    code = add_affiliate(app)
    r = app.test_client().get(f"/r/{code}")
    assert r.headers.getlist("Set-Cookie") == [] and count_rows(app, Click) == 0


@pytest.mark.parametrize("p", ["999", "abc", "-1", "//evil.example", "https://evil.example",
                               "1e3", "99999999999999999999"])
def test_never_an_open_redirect(app, client, p):
    code = add_affiliate(app)
    r = client.get(f"/r/{code}?p={p}", query_string=None)
    assert r.status_code == 302
    assert r.headers["Location"] == f"https://shop.example/?maff={code}"


def test_disabled_product_lands_on_default_url(app, client):
    from affsrv.products.services import set_enabled

    code = add_affiliate(app)
    pid = add_product(app)
    with app.app_context():
        set_enabled(pid, False)
    assert client.get(f"/r/{code}?p={pid}").headers["Location"].startswith(
        "https://shop.example/?")


def test_nul_characters_in_referer_and_agent_are_dropped_not_a_failed_write(app, client):
    # gunicorn refuses such headers; another WSGI server may pass them on. PostgreSQL refuses a
    # NUL in text, and the buffer would retry a batch it cannot write.
    code = add_affiliate(app)
    r = client.get(f"/r/{code}", headers={"Referer": "https://blog.example/\x00a",
                                          "User-Agent": "agent\x00/1"})
    assert r.status_code == 302 and _cookie(r)[0].value == code
    assert [(url, agent) for _, _, url, _, agent in _clicks(app)] == [
        ("https://blog.example/a", "agent/1")]


def test_a_nul_in_the_agent_of_a_referral_call_is_dropped(app, client, api_key):
    code = add_affiliate(app)
    r = client.post("/api", json={"apikey": api_key, "affiliate": code,
                                  "referrer": {"url": "https://blog.example/"}},
                    headers={"User-Agent": "shop\x00bot"})
    assert r.status_code == 200 and r.json["status"] == "ok", r.json
    assert [agent for *_, agent in _clicks(app)] == ["shopbot"]


def test_self_referral_click_not_counted(app, client):
    code = add_affiliate(app, ip="127.0.0.1")
    r = client.get(f"/r/{code}")
    assert r.status_code == 302 and count_rows(app, Click) == 0
    assert r.headers.getlist("Set-Cookie") == []


def test_long_referer_and_agent_are_truncated(app, client):
    code = add_affiliate(app)
    client.get(f"/r/{code}", headers={"Referer": "https://a.example/" + "x" * 5000,
                                      "User-Agent": "u" * 5000})
    (_, _, link, _, agent), = _clicks(app)
    assert len(link) == 2048 and len(agent) == 512


def test_buffered_clicks_are_written_by_the_background_flush(make_app):
    app = make_app(tracking={"click_flush_ms": 100, "click_flush_max": 1000})
    code = add_affiliate(app)
    client = app.test_client()
    for _ in range(25):
        assert client.get(f"/r/{code}").status_code == 302
    deadline = time.monotonic() + 5
    while count_rows(app, Click) < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count_rows(app, Click) == 25


def test_full_buffer_flushes_before_the_interval(make_app):
    app = make_app(tracking={"click_flush_ms": 60000, "click_flush_max": 10})
    code = add_affiliate(app)
    client = app.test_client()
    for _ in range(10):
        client.get(f"/r/{code}")
    deadline = time.monotonic() + 5
    while count_rows(app, Click) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count_rows(app, Click) == 10


def test_explicit_flush_writes_waiting_clicks(make_app):
    app = make_app(tracking={"click_flush_ms": 60000, "click_flush_max": 100000})
    code = add_affiliate(app)
    client = app.test_client()
    for _ in range(7):
        client.get(f"/r/{code}")
    assert count_rows(app, Click) == 0
    # What a stopping worker does at exit (atexit): nothing waiting is lost.
    assert app.extensions["click_buffer"].flush() == 7
    assert count_rows(app, Click) == 7


def test_cached_affiliate_is_seen_disabled_once_the_cache_expires(make_app):
    from affsrv.affiliates.services import set_enabled

    app = make_app(server={"cache_seconds": 1})
    code = add_affiliate(app)
    client = app.test_client()
    assert client.get(f"/r/{code}").headers.getlist("Set-Cookie")  # now cached as active
    with app.app_context():
        set_enabled(code, False)
    # Within [server] cache_seconds the worker may still count it (the documented bound)...
    assert client.get(f"/r/{code}").headers.getlist("Set-Cookie")
    time.sleep(1.2)
    # ...and no longer after it.
    assert client.get(f"/r/{code}").headers.getlist("Set-Cookie") == []


DOWN = "landing not counted: database unavailable"


@pytest.mark.parametrize(("path", "location", "event"), [
    ("/r/ann_01?p=3", "https://shop.example/?maff=ann_01", DOWN),
    ("/r/bad%20code?p=3", "https://shop.example/", DOWN),  # the product lookup needs it
    ("/r/bad%20code", "https://shop.example/", "landing refused"),  # no lookup needed
])
def test_with_the_database_down_a_landing_still_reaches_the_shop(
    app, make_app, path, location, event
):
    """A worker that cannot look the code up (nothing listens on port 1) sends the visitor to
    the default URL, with a well-formed code in the landing parameter (as the nginx site file
    does while affsrv is down), sets no cookie and logs why. (``app`` comes first: the
    fixture empties the tables through it.)"""
    down = make_app(database={"url": "postgresql://postgres@127.0.0.1:1/affsrv"})
    r = down.test_client().get(path)
    assert r.status_code == 302 and r.headers["Location"] == location
    assert r.headers.getlist("Set-Cookie") == []
    assert down.extensions["click_buffer"].waiting == 0
    assert _log_lines(down, "referral", event) == 1


def _log_lines(app, name: str, event: str) -> int:
    return sum(record["event"] == event for record in log_records(app, name))


def test_clicks_wait_out_a_database_that_refuses_them_then_are_written_once(make_app):
    """While the clicks table cannot be written (here: renamed away by another connection,
    a real failure on either database) the buffer keeps its clicks and retries, backing off:
    a full buffer must not turn every landing into another failed write and log line. Once
    the table is back, every click is written, once."""
    app = make_app(tracking={"click_flush_ms": 100, "click_flush_max": 5})
    code = add_affiliate(app)
    client = app.test_client()
    with app.app_context():
        engine = db.engine
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE clicks RENAME TO clicks_away"))
    try:
        for _ in range(40):  # eight times click_flush_max
            assert client.get(f"/r/{code}").status_code == 302
            time.sleep(0.02)
        time.sleep(0.5)
        failed = _log_lines(app, "referral", "click flush failed")
        # Backing off from 100 ms: a handful of tries in these 1.3 s, not one per landing.
        assert 1 <= failed <= 6, failed
        assert app.extensions["click_buffer"].waiting == 40
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE clicks_away RENAME TO clicks"))
    deadline = time.monotonic() + 15  # the longest back-off wait so far, and the write
    while count_rows(app, Click) < 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count_rows(app, Click) == 40
    assert app.extensions["click_buffer"].waiting == 0
