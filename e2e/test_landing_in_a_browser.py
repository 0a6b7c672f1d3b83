"""The landing link followed by a real browser (Debian's Chromium, headless, through
chromedriver): affsrv under gunicorn on loopback, and a stand-in shop on another loopback port
that serves a blog page linking to the landing link and the product pages it redirects to.

What only a browser can show: that it keeps affsrv's cookie as a persistent, HttpOnly,
SameSite=Lax cookie for the configured lifetime (set by the server, so no script-cookie cap),
that scripts cannot read it, that it reaches the shop, and which Referer the click records.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.serving import Server, clean_env, set_up_merchant

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
COOKIE_DAYS = 45


@dataclass
class Shop:
    """The merchant's site: records what each request carried."""

    port: int
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Cookie header)
    landing: str = ""  # the landing link the blog page links to

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def shop() -> Iterator[Shop]:
    state = Shop(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state.seen.append((self.path, self.headers.get("Cookie", "")))
            if self.path == "/blog":
                body = f'<html><body><a id="go" href="{state.landing}">buy</a></body></html>'
            else:
                body = "<html><head><title>shop</title></head><body>shop</body></html>"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Affsrv:
    server: Server
    key: str
    code: str
    product: str


@pytest.fixture
def affsrv(tmp_path: Path, shop: Shop) -> Iterator[Affsrv]:
    env = clean_env(
        AFFSRV_DATABASE_URL="sqlite:///var/affsrv.db",
        AFFSRV_TRACKING_DEFAULT_URL=shop.base + "/",
        AFFSRV_TRACKING_COOKIE_DAYS=str(COOKIE_DAYS),
        AFFSRV_TRACKING_CLICK_FLUSH_MS="0",  # the click is written before the redirect
    )
    merchant = set_up_merchant(tmp_path, env, product_url=shop.base + "/widget")
    server = Server(tmp_path, env)
    yield Affsrv(server, merchant.key, merchant.code, merchant.product)
    server.stop()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            pytest.fail(f"{path} is missing: `sudo apt-get install -y chromium chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    # Both paths are given, so Selenium Manager has nothing to find; offline, it never downloads.
    monkeypatch.setenv("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _follow_from_blog(browser: webdriver.Chrome, shop: Shop, landing: str) -> None:
    shop.landing = landing
    browser.get(shop.base + "/blog")
    browser.find_element(By.ID, "go").click()
    WebDriverWait(browser, 30).until(lambda b: b.title == "shop")


def test_a_browser_keeps_the_affiliate_cookie_and_the_shop_receives_it(affsrv, shop, browser):
    landing = f"{affsrv.server.base}/r/{affsrv.code}?p={affsrv.product}"
    before = time.time()
    _follow_from_blog(browser, shop, landing)

    # Redirected to the product's page with the code appended.
    assert browser.current_url == f"{shop.base}/widget?maff={affsrv.code}"
    # The browser stored the cookie for the host (cookies ignore ports, so the shop on this
    # host gets it too) as affsrv set it: persistent for cookie_days, HttpOnly, SameSite=Lax.
    cookies = {c["name"]: c for c in browser.get_cookies()}
    cookie = cookies["maff"]
    assert cookie["value"] == affsrv.code
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http here; HTTPS gets Secure (tests/tracking)
    lifetime = cookie["expiry"] - before
    assert abs(lifetime - COOKIE_DAYS * 86400) < 120, lifetime
    # Scripts on the page cannot read it.
    assert "maff" not in browser.execute_script("return document.cookie")
    # The shop's product page was asked for with the cookie.
    assert (f"/widget?maff={affsrv.code}", f"maff={affsrv.code}") in shop.seen

    # One click, counted with the Referer the browser sent: only the blog's origin, by the
    # browser's default referrer policy for a link to another origin.
    answer = requests.post(f"{affsrv.server.base}/api", timeout=10, json={
        "apikey": affsrv.key, "affiliate": affsrv.code, "data": {"op": "referrals"}}).json()
    assert answer == {"status": "ok", "data": {affsrv.product: {"referrers": [
        {"count": "1", "link": shop.base + "/"}]}}}


def test_an_unknown_code_sets_no_cookie_and_lands_on_the_default_url(affsrv, shop, browser):
    _follow_from_blog(browser, shop, f"{affsrv.server.base}/r/nobody?p={affsrv.product}")

    assert browser.current_url == shop.base + "/"
    assert "maff" not in {c["name"] for c in browser.get_cookies()}
    assert ("/", "") in shop.seen
