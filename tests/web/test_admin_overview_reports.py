"""The overview (/admin) and the report pages (/admin/reports/...): their figures against
sums worked out by hand from sales stored through ClickBank intake and the commissions
service, the zone, the live block's fragment, the charts' data, the CSV files, bad filters
(400 with the reports' message) and who may see them."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine as machine

from affsrv.reports.services import AFFILIATE_GROUPS, SALES_GROUPS
from tests.clickbank.support import add_cb_account
from tests.helpers import add_affiliate, add_product
from tests.reports.support import store
from tests.web.support import merchant_client, record_sale
from tests.web.test_portal import affiliate_client

# 16:00 in Berlin (UTC+1 until the end of March): today there is Tuesday 2026-03-10.
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def shop(make_app):
    """Sales over the last 30 days of Berlin, and one just before them:

    ====================  ==========  =======  =====  ======================  ============
    UTC                   Berlin      kind     USD    country                 account
    ====================  ==========  =======  =====  ======================  ============
    2026-02-08 12:00      Sun 02-08   SALE      30.00  US  (before the 30 days)  myvendor
    2026-02-09 10:00      Mon 02-09   SALE      20.00  FR                      myvendor
    2026-03-09 22:30      Mon 23:30   SALE     100.00  US                      myvendor
    2026-03-09 23:30      Tue 00:30   SALE      10.00  US                      myvendor
    2026-03-10 08:00      Tue 09:00   SALE      40.00  US (S1)                 myvendor
    2026-03-10 09:30      Tue 10:30   SALE      60.00  GB (S2)                 second
    2026-03-10 10:00      Tue 11:00   RFND      40.00  US (S1)                 myvendor
    2026-03-10 11:00      Tue 12:00   CGBK      60.00  GB (S2)                 second
    2026-03-10 12:00      Tue 13:00   SALE      25.00 EUR, DE                  myvendor
    2026-03-10 14:00      Tue 15:00   commission: sale 200.00, 20.00 to annie   shop
    ====================  ==========  =======  =====  ======================  ============
    """
    app = make_app(server={"timezone": "Europe/Berlin"}, mail={"enabled": False})
    client = app.test_client()
    add_cb_account(app)
    add_cb_account(app, "second")
    pid = add_product(app)
    add_affiliate(app, code="annie")
    store(client, "OLD1", "2026-02-08T12:00:00Z", "30.00")
    store(client, "FR1", "2026-02-09T10:00:00Z", "20.00", country="FR")
    store(client, "MON1", "2026-03-09T22:30:00Z", "100.00")
    store(client, "TUE0", "2026-03-09T23:30:00Z", "10.00")
    store(client, "S1", "2026-03-10T08:00:00Z", "40.00")
    store(client, "S2", "2026-03-10T09:30:00Z", "60.00", country="GB", account="second")
    store(client, "S1", "2026-03-10T10:00:00Z", "-40.00", kind="RFND")
    store(client, "S2", "2026-03-10T11:00:00Z", "-60.00", kind="CGBK", country="GB",
          account="second")
    store(client, "E1", "2026-03-10T12:00:00Z", "25.00", currency="EUR", country="DE")
    with machine.travel(datetime(2026, 3, 10, 14, 0, tzinfo=UTC), tick=False):
        record_sale(app, "annie", pid, "20.00", sale="200.00", ref="ORD-1")
    return app, pid


def _page(client, path, status=200):
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code,
                                          answer.get_data(as_text=True)[:2000])
    return answer.get_data(as_text=True)


def _by_id(page, element_id):
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', page)
    assert found, element_id
    return found.group(1).strip()


def _chart(page, element_id):
    found = re.search(rf'id="{element_id}"[^>]*data-chart="([^"]*)"', page)
    assert found, element_id
    return json.loads(html.unescape(found.group(1)))


def _table(page, table_id):
    """The rows of table ``table_id`` as lists of cell texts."""
    body = re.search(rf'<table id="{table_id}"[^>]*>.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def _csv(answer):
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def test_the_overview_today_live_in_the_viewers_zone(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)  # before signing in: a session is signed with a time
    client = merchant_client(app)
    assert client.get("/").headers["Location"] == "/admin/"
    page = _page(client, "/admin")
    # Today in Berlin: TUE0, S1, S2 and the shop's sale; S1 refunded, S2 charged back.
    assert "Today, 2026-03-10" in page
    assert _by_id(page, "today-USD-orders") == "4"
    assert _by_id(page, "today-USD-gross") == "310.00 USD"
    assert _by_id(page, "today-USD-refunds") == "1"
    assert _by_id(page, "today-USD-refund_amount") == "40.00 USD"
    assert _by_id(page, "today-USD-chargebacks") == "1"
    assert _by_id(page, "today-USD-chargeback_amount") == "60.00 USD"
    assert _by_id(page, "today-USD-net") == "210.00"
    assert _by_id(page, "today-USD-commissions") == "20.00"
    assert _by_id(page, "today-EUR-gross") == "25.00 EUR"
    assert page.index('id="today-USD"') < page.index('id="today-EUR"')  # ledger first
    assert 'hx-trigger="every 10s"' in page
    # In UTC today began at midnight UTC: TUE0 (23:30 UTC the day before) is yesterday's.
    utc = _page(client, "/admin/?tz=UTC")
    assert _by_id(utc, "today-USD-orders") == "3"
    assert _by_id(utc, "today-USD-gross") == "300.00 USD"


def test_the_live_fragment_shows_a_new_sale(shop, time_machine):
    app, pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    before = _page(client, "/admin/overview/today")
    assert before.lstrip().startswith("<section id=\"today\"")
    assert "<html" not in before  # the block alone, for htmx to swap in
    assert 'hx-get="/admin/overview/today?tz=Europe/Berlin"' in before
    assert _by_id(before, "today-USD-orders") == "4"
    time_machine.move_to(datetime(2026, 3, 10, 15, 30, tzinfo=UTC), tick=False)
    record_sale(app, "annie", pid, "5.00", sale="50.00", ref="ORD-2")
    after = _page(client, "/admin/overview/today")
    assert _by_id(after, "today-USD-orders") == "5"
    assert _by_id(after, "today-USD-gross") == "360.00 USD"
    assert _by_id(after, "today-USD-commissions") == "25.00"
    assert _by_id(after, "today-updated") == "16:30:00"


def test_a_quiet_day_shows_the_ledger_currency_at_zero(make_app):
    client = merchant_client(make_app())
    page = _page(client, "/admin")
    assert _by_id(page, "today-USD-orders") == "0"
    assert _by_id(page, "today-USD-net") == "0.00"
    assert "No sales in these days." in page


def test_the_overview_last_30_days_top_lists_and_heat_map(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    page = _page(client, "/admin")
    days = _chart(page, "days-chart")
    assert len(days["categories"]) == 30
    assert (days["categories"][0], days["categories"][-1]) == ("2026-02-09", "2026-03-10")
    gross_usd, net_usd, gross_eur, net_eur = days["series"]
    assert [s["name"] for s in days["series"]] == ["Gross USD", "Net USD", "Gross EUR",
                                                   "Net EUR"]
    assert {d: v for d, v in zip(days["categories"], gross_usd["data"], strict=True)
            if v != "0.00"} == {"2026-02-09": "20.00", "2026-03-09": "100.00",
                             "2026-03-10": "310.00"}
    assert net_usd["data"][-1] == "210.00" and gross_eur["data"][-1] == "25.00"
    assert sum(Decimal(v) for v in net_eur["data"]) == Decimal("25.00")
    # Countries by gross: the shop's sale has no country (no IP), US 150 (40 refunded),
    # GB 60 (charged back), FR 20; then the EUR sale.
    assert _table(page, "top-countries") == [
        ["(unknown)", "1", "200.00 USD", "200.00 USD"],
        ["US", "3", "150.00 USD", "110.00 USD"],
        ["GB", "1", "60.00 USD", "0.00 USD"],
        ["FR", "1", "20.00 USD", "20.00 USD"],
        ["DE", "1", "25.00 EUR", "25.00 EUR"]]
    # Affiliates by gross: the ClickBank sales came without one.
    assert _table(page, "top-affiliates") == [
        ["(none)", "5", "230.00 USD", "0.00 USD"],
        ["annie", "1", "200.00 USD", "20.00 USD"],
        ["(none)", "1", "25.00 EUR", "0.00 EUR"]]
    heat = _chart(page, "heat-chart")
    assert heat["rows"][0] == "Monday" and len(heat["cells"]) == 7 * 24
    busy = {(heat["rows"][day], hour): n for hour, day, n in heat["cells"] if n}
    assert busy == {("Monday", 11): 1, ("Monday", 23): 1, ("Tuesday", 0): 1,
                    ("Tuesday", 9): 1, ("Tuesday", 10): 1, ("Tuesday", 13): 1,
                    ("Tuesday", 15): 1}
    assert heat["max"] == 1


# --- the report pages --------------------------------------------------------------------

MARCH = "from=2026-03-01&to=2026-03-31&tz=Europe/Berlin"


def test_sales_by_country_table_chart_and_csv(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    page = _page(client, f"/admin/reports/sales?by=country&{MARCH}")
    # March in Berlin: MON1, TUE0, S1 (refunded), S2 (charged back), E1 and the shop's sale.
    assert _table(page, "report-table") == [
        ["(none)", "1", "200.00", "0", "0.00", "0", "0.00", "200.00", "20.00", "0.0000", "USD"],
        ["US", "3", "150.00", "1", "40.00", "0", "0.00", "110.00", "0.00", "0.3333", "USD"],
        ["GB", "1", "60.00", "0", "0.00", "1", "60.00", "0.00", "0.00", "0.0000", "USD"],
        ["DE", "1", "25.00", "0", "0.00", "0", "0.00", "25.00", "0.00", "0.0000", "EUR"]]
    chart = _chart(page, "report-chart")
    assert chart["kind"] == "bar" and chart["categories"] == ["(none)", "US", "GB", "DE"]
    assert chart["series"][0] == {"name": "Gross USD", "data": ["200.00", "150.00", "60.00",
                                                               "0.00"]}
    assert 'href="/admin/reports/sales.csv?by=country&amp;from=2026-03-01' in page
    rows = _csv(client.get(f"/admin/reports/sales.csv?by=country&{MARCH}"))
    assert list(rows[0]) == ["key", "orders", "gross", "refunds", "refund_amount",
                             "chargebacks", "chargeback_amount", "net", "commissions",
                             "refund_rate", "currency"]
    assert [(r["key"], r["orders"], r["net"], r["refund_rate"], r["currency"]) for r in rows] == [
        ("", "1", "200.00", "0.0000", "USD"), ("US", "3", "110.00", "0.3333", "USD"),
        ("GB", "1", "0.00", "0.0000", "USD"), ("DE", "1", "25.00", "0.0000", "EUR")]


def test_sales_filters_and_zone(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    # By day in Berlin, US only: MON1 on the 9th, TUE0 and S1 (refunded) on the 10th.
    page = _page(client, f"/admin/reports/sales?by=day&{MARCH}&country=us")
    assert [r[:3] + [r[7]] for r in _table(page, "report-table")] == [
        ["2026-03-09", "1", "100.00", "100.00"], ["2026-03-10", "2", "50.00", "10.00"]]
    days = _chart(page, "report-chart")  # every day of March, those without sales at 0
    assert days["categories"] == [f"2026-03-{d:02d}" for d in range(1, 32)]
    assert days["series"][1]["name"] == "Net USD"
    assert days["series"][1]["data"] == ["0.00"] * 8 + ["100.00", "10.00"] + ["0.00"] * 21
    # In UTC, TUE0 (23:30 UTC) falls on the 9th.
    utc = _page(client, "/admin/reports/sales?by=day&from=2026-03-01&to=2026-03-31&tz=UTC"
                        "&country=US")
    assert [r[:3] for r in _table(utc, "report-table")] == [
        ["2026-03-09", "2", "110.00"], ["2026-03-10", "1", "40.00"]]
    # The account and affiliate filters.
    second = _page(client, f"/admin/reports/sales?by=account&{MARCH}&account=second")
    assert [r[:3] + [r[7]] for r in _table(second, "report-table")] == [
        ["second", "1", "60.00", "0.00"]]
    annie = _page(client, f"/admin/reports/sales?by=product&{MARCH}&affiliate=annie")
    assert [r[1:3] + [r[8]] for r in _table(annie, "report-table")] == [
        ["1", "200.00", "20.00"]]
    # The weekday-by-hour heat map of February's first sale.
    feb = _page(client, "/admin/reports/sales?by=weekday-hour&from=2026-02-01"
                        "&to=2026-02-28&tz=Europe/Berlin")
    assert [r[:3] for r in _table(feb, "report-table")] == [
        ["Monday 11", "1", "20.00"], ["Sunday 13", "1", "30.00"]]
    heat = _chart(feb, "report-chart")
    assert heat["kind"] == "heatmap"
    assert {(heat["rows"][d], h): n for h, d, n in heat["cells"] if n} == {
        ("Sunday", 13): 1, ("Monday", 11): 1}


def test_every_sales_group_has_a_page_and_a_csv(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    for by in SALES_GROUPS:
        page = _page(client, f"/admin/reports/sales?by={by}&{MARCH}")
        assert _chart(page, "report-chart")["series" if by != "weekday-hour" else "cells"]
        rows = _csv(client.get(f"/admin/reports/sales.csv?by={by}&{MARCH}"))
        # Every group adds up to March's figures: 6 orders, 435.00 gross (25.00 EUR).
        assert sum(int(r["orders"]) for r in rows) == 6, by
        assert sum(Decimal(r["gross"]) for r in rows if r["currency"] == "USD") == Decimal(
            "410.00"), by
        assert len(_table(page, "report-table")) == len(rows), by


def test_every_affiliates_group_has_a_page_and_a_csv(shop, time_machine):
    app, pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    for _ in range(4):  # four clicks on annie's link today
        assert client.get(f"/r/annie?p={pid}").status_code in (302, 303)
    for by in AFFILIATE_GROUPS:
        _check_affiliates_group(client, by)


def _check_affiliates_group(client, by):
    page = _page(client, f"/admin/reports/affiliates?by={by}&{MARCH}")
    rows = _csv(client.get(f"/admin/reports/affiliates.csv?by={by}&{MARCH}"))
    assert list(rows[0]) == ["key", "clicks", "sales", "conversion_rate", "commissions",
                             "earnings_per_click", "currency"]
    assert sum(int(r["clicks"]) for r in rows if r["currency"] == "USD") == 4
    assert len(_table(page, "report-table")) == len(rows)
    if by == "affiliate":
        annie = next(r for r in rows if r["key"] == "annie")
        assert (annie["clicks"], annie["sales"], annie["conversion_rate"],
                annie["commissions"], annie["earnings_per_click"]) == (
            "4", "1", "0.2500", "20.00", "5.0000")
        assert ["annie", "4", "1", "0.2500", "20.00", "5.0000", "USD"] in _table(
            page, "report-table")
    chart = _chart(page, "report-chart")
    assert chart["series"][0]["name"] == "Clicks" and sum(chart["series"][0]["data"]) == 4


def test_today_report_per_account_and_minute(shop, time_machine):
    app, _pid = shop
    time_machine.move_to(NOW, tick=False)
    client = merchant_client(app)
    page = _page(client, "/admin/reports/today")
    assert [r[:3] + [r[10]] for r in _table(page, "report-total")] == [
        ["all", "4", "310.00", "USD"], ["all", "1", "25.00", "EUR"]]
    assert [r[:3] for r in _table(page, "report-accounts")] == [
        ["shop", "1", "200.00"], ["second", "1", "60.00"], ["myvendor", "2", "50.00"],
        ["myvendor", "1", "25.00"]]
    assert [r[0] for r in _table(page, "report-minutes")] == [
        "00:30", "09:00", "10:30", "11:00", "12:00", "15:00", "13:00"]
    mine = _page(client, "/admin/reports/today?account=second")
    assert [r[:3] + [r[5]] for r in _table(mine, "report-total")] == [["all", "1", "60.00",
                                                                        "1"]]
    # A negative net stays a number in the CSV (no formula guard's apostrophe before it).
    berlin = _csv(client.get("/admin/reports/today.csv"))
    assert [(r["key"], r["refunds"], r["net"]) for r in berlin
            if r["part"] == "minutes" and r["key"] in ("11:00", "12:00")] == [
        ("11:00", "1", "-40.00"), ("12:00", "0", "-60.00")]
    rows = _csv(client.get("/admin/reports/today.csv?tz=UTC"))
    assert [(r["part"], r["key"], r["orders"], r["gross"]) for r in rows
            if r["part"] == "total"] == [("total", "all", "3", "300.00"),
                                         ("total", "all", "1", "25.00")]


@pytest.mark.parametrize(("path", "message"), [
    ("sales?by=nope", "by: unknown group &#39;nope&#39;"),
    ("sales?by=day&from=2026-13-01", "from: Not a valid date."),
    ("sales?by=day&from=2026-03-09&to=2026-03-01", "from 2026-03-09 is after to 2026-03-01"),
    ("sales?by=day&tz=Mars/Olympus", "unknown time zone &#39;Mars/Olympus&#39;"),
    ("sales?by=country&country=USA", "country: two letters (ISO 3166), such as US"),
    ("sales?by=day&from=1900-01-01&to=2026-01-01", "at most 1096 ([reports] max_days)"),
    ("affiliates?by=day&account=second", "account: the affiliates report has no such filter"),
    ("affiliates?by=link&product=" + "9" * 80, "product: Length must be between 1 and 64."),
    ("today?from=2026-03-01", "the today report covers today: no from or to"),
])
def test_bad_filters_are_a_form_error_and_a_400(app, path, message):
    client = merchant_client(app)
    page = _page(client, f"/admin/reports/{path}", status=400)
    assert 'id="report-filters"' in page  # the form, to put it right
    assert message in re.search(r'id="report-error"><p>(.*?)</p>', page).group(1)
    assert 'id="report-table"' not in page and 'id="csv"' not in page
    report, _, query = path.partition("?")
    answer = client.get(f"/admin/reports/{report}.csv?{query}")
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert message in answer.get_data(as_text=True)


def test_a_bad_zone_on_the_overview_is_a_400(app):
    client = merchant_client(app)
    for path in ("/admin/?tz=Nowhere/City", "/admin/overview/today?tz=..%2Fetc"):
        answer = client.get(path)
        assert answer.status_code == 400
        assert "unknown time zone" in answer.get_data(as_text=True)


OVERVIEW_AND_REPORTS = ["/admin", "/admin/", "/admin/overview/today", "/admin/reports",
                        "/admin/reports/sales", "/admin/reports/sales.csv?by=day",
                        "/admin/reports/affiliates", "/admin/reports/affiliates.csv",
                        "/admin/reports/today", "/admin/reports/today.csv"]


def test_only_merchants_see_the_overview_and_reports(app):
    stranger = app.test_client()
    affiliate = affiliate_client(app, "ann", "ann@blog.example")
    staff = merchant_client(app, role="staff")
    for path in OVERVIEW_AND_REPORTS:
        for client in (stranger, affiliate):  # an affiliate's session is no merchant's
            answer = client.get(path)
            assert answer.status_code == 302, path
            assert answer.headers["Location"].startswith("/login?next="), path
        assert staff.get(path).status_code == (302 if path == "/admin/reports" else 200), path


def test_the_pages_load_echarts_and_their_script_and_the_nav_lists_them(app):
    client = merchant_client(app)
    for path in ("/admin/", "/admin/reports/sales"):
        page = _page(client, path)
        assert '<script src="/assets/vendor/echarts-6.1.0.min.js" defer></script>' in page
        assert '<script src="/assets/charts.js" defer></script>' in page
        assert "<script>" not in page  # nothing inline: the CSP would refuse it
        assert '<a href="/admin/" aria-current="page">Overview</a>' in page or path != "/admin/"
        assert 'href="/admin/reports"' in page
    script = client.get("/assets/charts.js")
    assert script.status_code == 200 and "echarts.init" in script.get_data(as_text=True)
