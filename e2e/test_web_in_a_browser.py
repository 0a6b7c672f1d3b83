"""The merchant's dashboard and the affiliate area in a real browser (Debian's Chromium,
headless, through chromedriver) against `affsrv serve` on loopback.

The merchant signs in with the one-time link `affsrv user add` prints and chooses a password;
an affiliate signs up in the affiliate area; a shop records commissions through the JSON API.
The merchant approves one (htmx) and the affiliate's total changes; records a payout and the
balance falls; downloads CSVs, which are parsed. Every page is checked for browser console
errors (a CSP violation, a failed script or stylesheet, a 404 asset) and for htmx having run.
Screenshots of the payouts page and the affiliate dashboard, desktop and phone width, go to
docs/screenshots/.

The merchant uses http://127.0.0.1:PORT and the affiliate http://localhost:PORT: cookies are
per host, so the two sessions live side by side in one browser.
"""

from __future__ import annotations

import base64
import csv
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.serving import Server, affsrv_output, clean_env, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MERCHANT_PASSWORD = "merchant pass 123"
AFFILIATE_PASSWORD = "affiliate pass 123"
DESKTOP, PHONE = (1280, 900), (390, 844)


@dataclass
class Site:
    server: Server
    cwd: Path
    env: dict[str, str]
    key: str
    product: str
    link: str  # the merchant's one-time sign-in link

    @property
    def merchant(self) -> str:
        return self.server.base  # http://127.0.0.1:PORT

    @property
    def affiliate(self) -> str:
        return self.server.base.replace("127.0.0.1", "localhost")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    env = clean_env(AFFSRV_DATABASE_URL="sqlite:///var/affsrv.db",
                    AFFSRV_WEB_PUBLIC_URL=f"http://127.0.0.1:{port}",
                    AFFSRV_SERVER_TIMEZONE="Europe/Berlin",
                    # As behind nginx: the visitors' landing clicks come from their own
                    # address (X-Forwarded-For), not the affiliate's 127.0.0.1, which affsrv
                    # would refuse to count as a self-referral.
                    AFFSRV_SERVER_TRUSTED_PROXIES="1")
    affsrv_output(["db", "upgrade"], tmp_path, env)
    key = affsrv_output(["apikey", "create"], tmp_path, env)
    product = affsrv_output(["product", "add", "--name", "Widget", "--url",
                             "https://shop.example/widget", "--rate", "10"],
                            tmp_path, env)
    link = affsrv_output(["user", "add", "--email", "owner@shop.example"], tmp_path, env)
    server = Server(tmp_path, env, port=port)
    yield Site(server, tmp_path, env, key, product, link)
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
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    monkeypatch.setenv("SE_OFFLINE", "true")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_window_size(*DESKTOP)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
    yield driver
    driver.quit()


def _no_console_errors(browser: webdriver.Chrome) -> None:
    """Nothing went wrong on the page: no console error (a CSP violation, a script error, a
    failed request for an asset), and htmx is loaded."""
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    assert browser.execute_script("return typeof htmx") == "object"
    # Every stylesheet and script on the page loaded (a 404 would also be in the log).
    assert browser.execute_script("return document.styleSheets.length") >= 1


def _open(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    _no_console_errors(browser)


def _fill(browser: webdriver.Chrome, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def _click_to(browser: webdriver.Chrome, element: object, url: str) -> None:
    """Click ``element`` and wait for the page at ``url`` to load."""
    element.click()  # type: ignore[attr-defined]
    WebDriverWait(browser, 20).until(
        lambda b: b.current_url == url and b.execute_script(
            "return document.readyState") == "complete")


def _submit_to_same_page(browser: webdriver.Chrome, button: object, url: str) -> None:
    """Click a form's ``button`` whose answer is the same URL again: wait for the old page to
    go (the button goes stale), then for the new one (``_click_to`` alone would see the old
    page at that URL and return before the answer came)."""
    button.click()  # type: ignore[attr-defined]
    WebDriverWait(browser, 20).until(expected_conditions.staleness_of(button))
    WebDriverWait(browser, 20).until(
        lambda b: b.current_url == url and b.execute_script(
            "return document.readyState") == "complete")


def _text(browser: webdriver.Chrome, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def _screenshot(browser: webdriver.Chrome, url: str, name: str) -> None:
    """The whole page at desktop and at phone width (emulated as a phone: its viewport and
    the page's own meta viewport)."""
    for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": label == "phone"})
        _open(browser, url)
        # Nothing sticks out sideways at this width (a phone would have to scroll).
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, label, overflow)
        shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True})
        (SCREENSHOTS / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _download(browser: webdriver.Chrome, link_id: str, filename: str) -> list[list[str]]:
    target = browser.downloads / filename
    if target.exists():
        target.unlink()
    browser.find_element(By.ID, link_id).click()
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), f"{filename} was not downloaded"
    time.sleep(0.2)  # Chromium renames the finished .crdownload file to its name
    with target.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _record_commission(site: Site, code: str, ref: str, sale: str) -> None:
    answer = requests.post(f"{site.merchant}/api", timeout=10, json={
        "apikey": site.key, "affiliate": code,
        "commission": {"product": site.product, "saletotal": sale, "ref": ref}}).json()
    assert answer["status"] == "ok", answer


def _money(text: str) -> Decimal:
    return Decimal(text.split()[0].replace(",", ""))


def test_merchant_and_affiliate_in_a_browser(site: Site, browser: webdriver.Chrome) -> None:
    # The merchant's one-time link: a button, then a password of their choosing.
    link = site.link.replace(site.env["AFFSRV_WEB_PUBLIC_URL"], site.merchant)
    _open(browser, link)
    _click_to(browser, browser.find_element(
        By.CSS_SELECTOR, "main form button, main form input[type=submit]"),
        site.merchant + "/account")
    _fill(browser, {"pw-new": MERCHANT_PASSWORD, "pw-confirm": MERCHANT_PASSWORD})
    _submit_to_same_page(browser, browser.find_element(By.NAME, "pw-submit"),
                         site.merchant + "/account")
    assert "Password changed" in browser.page_source
    _no_console_errors(browser)

    # An affiliate signs up (no approval needed by default) and sees an empty dashboard.
    _open(browser, site.affiliate + "/affiliate/signup")
    _fill(browser, {"fname": "Dana", "lname": "Reed", "email": "dana@blog.example",
                    "password": AFFILIATE_PASSWORD, "confirm": AFFILIATE_PASSWORD})
    _click_to(browser, browser.find_element(By.NAME, "submit"), site.affiliate + "/affiliate/")
    code = _text(browser, "my-code")
    assert f"{site.env['AFFSRV_WEB_PUBLIC_URL']}/r/{code}?p={site.product}" in browser.page_source
    assert _text(browser, "bal-earned") == "0.00"

    # Four visitors come through the affiliate's link from a blog.
    for n in range(4):
        landing = requests.get(f"{site.merchant}/r/{code}?p={site.product}", timeout=10,
                               allow_redirects=False,
                               headers={"Referer": "https://blog.example/post",
                                        "X-Forwarded-For": f"203.0.113.{n + 1}"})
        assert landing.status_code == 302 and f"maff={code}" in landing.headers["Location"]

    # A shop records two sales through the API: pending until the merchant approves.
    _record_commission(site, code, "ORD-1", "100.00")
    _record_commission(site, code, "ORD-2", "250.00")
    browser.refresh()
    assert _text(browser, "bal-pending") == "35.00" and _text(browser, "bal-earned") == "0.00"

    # The merchant signs out, signs in with the new password and approves ORD-2 with htmx.
    _open(browser, site.merchant + "/account")
    _click_to(browser, browser.find_element(By.CSS_SELECTOR, "header form button"),
              site.merchant + "/login")
    _open(browser, site.merchant + "/admin/commissions?status=pending")
    assert "/login?next=" in browser.current_url
    _fill(browser, {"email": "owner@shop.example", "password": MERCHANT_PASSWORD})
    _click_to(browser, browser.find_element(By.NAME, "submit"),
              site.merchant + "/admin/commissions?status=pending")
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr[id^=commission-]")
    assert len(rows) == 2
    target = next(r for r in rows if "25.00" in r.text)
    row_id = target.get_attribute("id")
    target.find_element(By.XPATH, ".//button[text()='Approve']").click()
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: "approved" in b.find_element(By.ID, row_id).text)
    assert browser.current_url.endswith("/admin/commissions?status=pending")  # no reload
    _no_console_errors(browser)

    # The affiliate's total changed: on the merchant's page and in the affiliate area.
    _open(browser, f"{site.merchant}/admin/affiliates/{code}")
    assert _text(browser, "bal-earned") == "25.00" and _text(browser, "bal-owed") == "25.00"
    _open(browser, site.affiliate + "/affiliate/")
    assert _text(browser, "bal-earned") == "25.00" and _text(browser, "bal-pending") == "10.00"

    # The merchant's commissions CSV, downloaded by the browser and parsed.
    _open(browser, site.merchant + "/admin/commissions")
    commissions = _download(browser, "csv", "commissions.csv")
    assert commissions[0][:3] == ["id", "created", "affiliate"]
    assert sorted((r[2], r[6], r[8]) for r in commissions[1:]) == [
        (code, "approved", "25.00"), (code, "pending", "10.00")]

    # Payouts: the affiliate is owed 25.00 at a minimum of 20; the PayPal file says so.
    _open(browser, site.merchant + "/admin/payouts?minimum=20")
    assert _money(_text(browser, "owed-total")) == Decimal("25.00")
    paypal = _download(browser, "paypal-csv", "paypal-payouts.csv")
    assert paypal == [["dana@blog.example", "25.00", "USD", code, "Affiliate commissions",
                       "PAYPAL"]]
    _screenshot(browser, site.merchant + "/admin/payouts?minimum=20", "payouts")
    _fill(browser, {"reference": "BATCH-1"})
    _click_to(browser, browser.find_element(By.NAME, "submit"), site.merchant + "/admin/payments")
    assert "Recorded 1 payment(s), 25.00 USD in all." in browser.page_source
    payments = _download(browser, "csv", "payments.csv")
    assert [(r[2], r[3], r[4], r[6]) for r in payments[1:]] == [
        (code, "paypal", "25.00", "BATCH-1")]

    # The balance fell: nobody is owed 20 now; the affiliate sees the payment.
    _open(browser, site.merchant + "/admin/payouts?minimum=20")
    assert _text(browser, "owed-count") == "0"
    _open(browser, site.affiliate + "/affiliate/")
    assert _text(browser, "bal-paid") == "25.00" and _text(browser, "bal-owed") == "0.00"
    _check_clicks_and_earnings(browser, site, code)
    _screenshot(browser, site.affiliate + "/affiliate/", "affiliate-dashboard")

    # The affiliate's own CSVs.
    _open(browser, site.affiliate + "/affiliate/commissions")
    mine = _download(browser, "csv", "commissions.csv")
    assert sorted((r[5], r[7], r[9]) for r in mine[1:]) == [
        ("approved", "25.00", "yes"), ("pending", "10.00", "no")]
    _open(browser, site.affiliate + "/affiliate/payments")
    paid = _download(browser, "csv", "payments.csv")
    assert [(r[2], r[3]) for r in paid[1:]] == [("paypal", "25.00")]

    # Signing out by keyboard: Tab to the button, Enter.
    browser.find_element(By.CSS_SELECTOR, "header form button").send_keys("\n")
    WebDriverWait(browser, 10).until(lambda b: "/affiliate/login" in b.current_url)
    _no_console_errors(browser)


def test_the_owners_integration_pages_in_a_browser(site: Site, browser: webdriver.Chrome) -> None:
    """ClickBank accounts, notifications, the three kinds of key and the configuration open
    without a console error; an account added and a clerk key made through their forms."""
    link = site.link.replace(site.env["AFFSRV_WEB_PUBLIC_URL"], site.merchant)
    _open(browser, link)
    _click_to(browser, browser.find_element(
        By.CSS_SELECTOR, "main form button, main form input[type=submit]"),
        site.merchant + "/account")
    _open(browser, site.merchant + "/admin/accounts")
    _fill(browser, {"nickname": "myshop", "secret_key": "ABCDEF0123456789"})
    _submit_to_same_page(browser, browser.find_element(By.NAME, "submit"),
                         site.merchant + "/admin/accounts")
    assert "/ins/clickbank/myshop" in browser.page_source
    assert "ABCDEF0123456789" not in browser.page_source
    _no_console_errors(browser)
    _open(browser, site.merchant + "/admin/keys/clerk")
    browser.find_element(By.CSS_SELECTOR, "input[value=api_order_read]").click()
    _fill(browser, {"sites": "myshop", "label": "warehouse"})
    _submit_to_same_page(browser, browser.find_element(By.NAME, "submit"),
                         site.merchant + "/admin/keys/clerk")
    assert _text(browser, "new-key").startswith("DEV-")
    _no_console_errors(browser)
    for path in ("/admin/accounts/myshop", "/admin/notifications", "/admin/keys",
                 "/admin/keys/reporting", "/admin/settings"):
        _open(browser, site.merchant + path)
        assert "500" not in browser.title, path
    assert "[database]" in browser.page_source and "Europe/Berlin" in browser.page_source


def _figures(browser: webdriver.Chrome, table_id: str) -> list[str]:
    """The cells of a figures table's first row: clicks, sales, conversion, earnings, EPC."""
    row = browser.find_element(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    return [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td.num")]


def _check_clicks_and_earnings(browser: webdriver.Chrome, site: Site, code: str) -> None:
    """The affiliate's clicks, sales, conversion rate and earnings per click, on the
    dashboard, the clicks-and-earnings page and its CSV, against the database's rows."""
    database = sqlite3.connect(site.cwd / "var" / "affsrv.db")
    try:
        [(affiliate_id,)] = database.execute("SELECT id FROM affiliates WHERE code = ?", (code,))

        def stored_clicks() -> int:
            return database.execute("SELECT count(*) FROM clicks WHERE affiliate_id = ?",
                                    (affiliate_id,)).fetchone()[0]

        deadline = time.monotonic() + 20  # the click writer flushes every 2 s
        while stored_clicks() < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        clicks = stored_clicks()
        # Every sale's commission, pending or approved (none reversed here); SQLite keeps
        # amounts as whole cents (affsrv.db.types.FixedDecimal).
        sales, earned = database.execute(
            "SELECT count(*), sum(commission_total) FROM commissions "
            "WHERE affiliate_id = ? AND kind = 'sale'", (affiliate_id,)).fetchone()
    finally:
        database.close()
    earned = Decimal(int(earned)).scaleb(-2)
    assert (clicks, sales, earned) == (4, 2, Decimal("35.00"))
    conversion = f"{(Decimal(sales) / clicks * 100).normalize():f}%"
    epc = str((earned / clicks).quantize(Decimal("0.0001")))
    expected = [str(clicks), str(sales), conversion, f"{earned} USD", f"{epc} USD"]
    _open(browser, site.affiliate + "/affiliate/")
    assert [browser.find_element(By.CSS_SELECTOR, f"#recent-overall-USD b.{name}").text
            for name in ("clicks", "sales", "conversion", "earnings", "epc")] == expected
    _open(browser, site.affiliate + "/affiliate/performance")
    assert _figures(browser, "overall") == expected
    assert _figures(browser, "by-product") == expected  # one product
    assert browser.find_element(By.CSS_SELECTOR, "#by-link tbody tr").text == (
        f"https://blog.example/post {clicks}")
    today = datetime.now(ZoneInfo(site.env["AFFSRV_SERVER_TIMEZONE"])).date()
    rows = _download(browser, "csv-product",
                     f"clicks-by-product-{today.replace(day=1)}-{today}.csv")
    assert rows[0] == ["product", "product_name", "clicks", "sales", "conversion_rate",
                       "earnings", "earnings_per_click", "currency"]
    assert rows[1:] == [[site.product, "Widget", str(clicks), str(sales),
                         str((Decimal(sales) / clicks).quantize(Decimal("0.0001"))),
                         str(earned), epc, "USD"]]
    _open(browser, site.affiliate + "/affiliate/referrals")
    assert browser.find_element(By.CSS_SELECTOR, "#referrals tbody tr").text == (
        f"Widget https://blog.example/post {clicks}")


def test_the_vendored_files_are_in_the_built_package(tmp_path: Path) -> None:
    """A wheel built from the source carries the templates, the stylesheet and the vendored
    scripts with their licenses (package-data), so an installed affsrv serves them."""
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(root)], check=True, timeout=300)
    import zipfile

    [wheel] = tmp_path.glob("affsrv-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("affsrv/web/static/vendor/htmx-2.0.11.min.js",
                 "affsrv/web/static/vendor/echarts-6.1.0.min.js",
                 "affsrv/web/static/vendor/LICENSE.htmx",
                 "affsrv/web/static/vendor/LICENSE.echarts",
                 "affsrv/web/static/vendor/NOTICE.echarts",
                 "affsrv/web/static/affsrv.css", "affsrv/web/static/charts.js",
                 "affsrv/web/templates/base.html",
                 "affsrv/admin/templates/admin/overview.html",
                 "affsrv/admin/templates/admin/overview_today.html",
                 "affsrv/admin/templates/admin/report.html",
                 "affsrv/admin/templates/admin/payouts.html",
                 "affsrv/portal/templates/portal/dashboard.html",
                 "affsrv/users/templates/users/login.html"):
        assert name in names, name


def _database_totals(site: Site) -> tuple[int, Decimal, Decimal]:
    """Orders, sales and commissions as the commissions table holds them (every one was
    recorded today, through the JSON API); on SQLite affsrv keeps amounts as whole cents."""
    import sqlite3

    with sqlite3.connect(site.cwd / "var" / "affsrv.db") as conn:
        count, sales, commissions = conn.execute(
            "SELECT COUNT(*), SUM(sale_total), SUM(commission_total) FROM commissions "
            "WHERE currency = 'USD'").fetchone()
    return count, Decimal(sales) / 100, Decimal(commissions) / 100


def _charts_drawn(browser: webdriver.Chrome, *element_ids: str) -> None:
    """ECharts drew each chart: a canvas with a size inside the element."""
    for element_id in element_ids:
        WebDriverWait(browser, 10).until(lambda b, e=element_id: b.find_element(
            By.ID, e).get_attribute("data-drawn") == "true")
        width, height = browser.execute_script(
            "const c = document.querySelector('#' + arguments[0] + ' canvas');"
            "return c ? [c.width, c.height] : [0, 0];", element_id)
        assert width > 200 and height > 100, (element_id, width, height)


def _page_screenshot(browser: webdriver.Chrome, url: str, name: str) -> None:
    """docs/screenshots/<name>.png at desktop width, after checking that nothing sticks out
    sideways at phone width (the charts shrink, the tables scroll in their own box)."""
    for width, height in (PHONE, DESKTOP):
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": (width, height) == PHONE})
        _open(browser, url)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, width, overflow)
    charts = browser.execute_script(
        "return Array.from(document.querySelectorAll('[data-chart]')).map(e => e.id)")
    _charts_drawn(browser, *charts)
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True})
    (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _clickbank_history(site: Site) -> None:
    """Forty ClickBank sales (six refunded) over the last four weeks, before today, in six
    countries and at many hours, posted to the running server as ClickBank sends them: so the
    overview's charts have something to show."""
    from tests.clickbank.support import SECRET, encrypt, notification
    from tests.reports.support import address

    affsrv_output(["account", "add", "--nickname", "myvendor", "--secret-key", SECRET],
                  site.cwd, site.env)
    now = datetime.now(UTC)
    countries = ("US", "GB", "DE", "US", "CA", "AU", "US", "FR")
    for i in range(40):
        when = (now - timedelta(days=1 + (i * 11) % 28, hours=1 + (i * 7) % 20)).replace(
            microsecond=0)
        amount = f"{(19 + (i * 37) % 80)}.00"
        kinds = [("SALE", amount, when)] + ([("RFND", f"-{amount}", when + timedelta(minutes=30))]
                                            if i % 7 == 3 else [])
        for kind, total, at in kinds:
            document = notification(
                transactionTime=at.isoformat().replace("+00:00", "Z"), receipt=f"CB{i:03d}",
                transactionType=kind, totalOrderAmount=total, totalAccountAmount=total,
                customer={"billing": address(countries[i % len(countries)])},
                lineItems=[{"itemNo": "WIDGET-1", "productTitle": "Widget", "shippable": False,
                            "recurring": False, "accountAmount": total, "quantity": 1,
                            "lineItemType": "ORIGINAL", "productPrice": total,
                            "affiliatePayout": "0.00"}])
            answer = requests.post(f"{site.merchant}/ins/clickbank/myvendor", timeout=10,
                                   json=encrypt(document))
            assert answer.status_code == 200, answer.text


def test_overview_and_reports_in_a_browser(site: Site, browser: webdriver.Chrome) -> None:
    _clickbank_history(site)
    codes = [affsrv_output(["affiliate", "add", "--email", f"{name}@blog.example", "--fname",
                            name.title(), "--lname", "Reed", "--code", name],
                           site.cwd, site.env) and name for name in ("dana", "eli", "fay")]
    for n, (code, sale) in enumerate(zip(codes * 2, ("120.00", "80.00", "45.50", "99.99",
                                                      "10.00", "300.00"), strict=True)):
        _record_commission(site, code, f"ORD-{n}", sale)

    # The merchant signs in with the one-time link, chooses a password, opens the overview.
    _open(browser, site.link.replace(site.env["AFFSRV_WEB_PUBLIC_URL"], site.merchant))
    _click_to(browser, browser.find_element(
        By.CSS_SELECTOR, "main form button, main form input[type=submit]"),
        site.merchant + "/account")
    _fill(browser, {"pw-new": MERCHANT_PASSWORD, "pw-confirm": MERCHANT_PASSWORD})
    _submit_to_same_page(browser, browser.find_element(By.NAME, "pw-submit"),
                         site.merchant + "/account")
    _click_to(browser, browser.find_element(By.LINK_TEXT, "Overview"), site.merchant + "/admin/")

    # Today's figures are the database's.
    orders, sales, commissions = _database_totals(site)
    assert (orders, sales, commissions) == (6, Decimal("655.49"), Decimal("65.55"))
    assert _text(browser, "today-USD-orders") == str(orders)
    assert _money(_text(browser, "today-USD-gross")) == sales
    assert _money(_text(browser, "today-USD-net")) == sales
    assert _money(_text(browser, "today-USD-commissions")) == commissions
    # The affiliates by gross (the ClickBank sales came without one: "(none)").
    top = [r for r in browser.find_elements(By.CSS_SELECTOR, "#top-affiliates tbody tr")
           if not r.text.startswith("(none)")]
    assert [r.text.split()[0] for r in top] == ["fay", "dana", "eli"]  # 345.50, 219.99, 90
    assert _money(top[0].find_elements(By.TAG_NAME, "td")[2].text) == Decimal("345.50")
    _charts_drawn(browser, "days-chart", "heat-chart")
    _no_console_errors(browser)

    # The live block refreshes on its own (htmx, every 10 s): a new sale shows up unasked.
    url = browser.current_url
    _record_commission(site, "dana", "ORD-LIVE", "44.51")
    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: _text(b, "today-USD-orders") == "7")
    assert _money(_text(browser, "today-USD-gross")) == _database_totals(site)[1] == Decimal(
        "700.00")
    assert browser.current_url == url  # no reload
    _no_console_errors(browser)
    _page_screenshot(browser, site.merchant + "/admin/", "overview")

    # A report, by keyboard: the Reports link, the affiliate filter typed, Enter.
    _open(browser, site.merchant + "/admin/")
    _click_to(browser, browser.find_element(By.LINK_TEXT, "Reports"),
              site.merchant + "/admin/reports/sales")
    browser.find_element(By.ID, "f-by").send_keys("affiliate")
    browser.find_element(By.ID, "f-affiliate").send_keys("fay\n")
    WebDriverWait(browser, 10).until(lambda b: "affiliate=fay" in b.current_url)
    _no_console_errors(browser)
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#report-table tbody td")]
    assert cells[:3] == ["fay", "2", "345.50"]
    _charts_drawn(browser, "report-chart")

    # By day: the CSV the browser downloads has today's row, the database's sums.
    _open(browser, site.merchant + "/admin/reports/sales?by=day")
    rows = _download(browser, "csv", "sales-by-day.csv")
    assert rows[0][:3] == ["key", "orders", "gross"]
    today_in_berlin = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    [today] = [r for r in rows[1:] if r[0] == today_in_berlin]
    assert (int(today[1]), Decimal(today[2]), Decimal(today[8])) == _database_totals(site)
    last = datetime.now(ZoneInfo("Europe/Berlin")).date()
    _page_screenshot(browser, f"{site.merchant}/admin/reports/sales?by=day&from="
                              f"{last - timedelta(days=29)}&to={last}", "report")

    # A bad filter: the reports' message on the page (a 400, the one console error).
    browser.get(site.merchant + "/admin/reports/sales?by=day&country=USA")
    assert "two letters (ISO 3166)" in _text(browser, "report-error")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert len(errors) == 1 and "status of 400" in errors[0], errors
