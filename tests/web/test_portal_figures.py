"""The affiliate area's clicks and earnings: referrals (the Data API's counts), clicks, sales,
conversion rate and earnings per click by product, referring link and day for a date range in
the viewer's zone, the last days on the dashboard, and their CSVs. The data is made as in
production: clicks through the landing link, commissions through ``record_commission``; every
figure below is worked out by hand from it."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from affsrv.portal import services as portal_services
from tests.helpers import add_affiliate, add_product
from tests.web.support import csrf_token, record_sale

PASSWORD = "affiliate pass 1"
BLOG, NEWS = "https://blog.example/a", "https://news.example/b"
NOW = "2026-03-05T12:00:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _land(client, code, query, link, when, times=1):
    with time_machine.travel(at(when), tick=False):
        for _ in range(times):
            answer = client.get(f"/r/{code}{query}", headers={"Referer": link},
                                environ_base={"REMOTE_ADDR": "8.8.8.8"})
            assert answer.status_code == 302


def _sale(app, code, product, commission, when, ref):
    with time_machine.travel(at(when), tick=False):
        record_sale(app, code, product, commission, ref=ref)


@pytest.fixture
def shop(make_app):
    """ann: 3 clicks on Widget from BLOG (2 March 15:00Z), 1 on Gadget from NEWS (3 March
    03:00Z, still 2 March in New York), 1 naming no product from BLOG (4 March 15:00Z); Widget
    commissions of 6.00 (2 March 16:00Z) and 4.00 (4 March 16:00Z). bob: 2 clicks and 50.00 on
    Widget, which ann must never see."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    widget, gadget = add_product(app, name="Widget"), add_product(app, name="Gadget")
    for code in ("ann", "bob"):
        add_affiliate(app, code=code, email=f"{code}@blog.example", password=PASSWORD)
    landing = app.test_client()
    _land(landing, "ann", f"?p={widget}", BLOG, "2026-03-02T15:00:00Z", times=3)
    _land(landing, "ann", f"?p={gadget}", NEWS, "2026-03-03T03:00:00Z")
    _land(landing, "ann", "", BLOG, "2026-03-04T15:00:00Z")
    _land(landing, "bob", f"?p={widget}", BLOG, "2026-03-02T15:00:00Z", times=2)
    _sale(app, "ann", widget, "6.00", "2026-03-02T16:00:00Z", "a1")
    _sale(app, "ann", widget, "4.00", "2026-03-04T16:00:00Z", "a2")
    _sale(app, "bob", widget, "50.00", "2026-03-02T16:00:00Z", "b1")
    return app, str(widget), str(gadget)


def _signed_in(app, email):
    client = app.test_client()
    token = csrf_token(client, "/affiliate/login")
    answer = client.post("/affiliate/login", data={"csrf_token": token, "email": email,
                                                   "password": PASSWORD})
    assert answer.status_code == 303
    return client


def _summary(html, currency="USD"):
    """(clicks, sales, conversion, earnings, epc) of the dashboard's last days in one
    currency."""
    block = re.search(rf'<div class="summary" id="recent-overall-{currency}"(.*?)\n</div>',
                      html, re.S)
    assert block, "no summary of the last days"
    values = dict(re.findall(r'<b class="(\w+)">([^<]*)</b>', block.group(1)))
    return tuple(values[name].replace(" " + currency, "")
                 for name in ("clicks", "sales", "conversion", "earnings", "epc"))


def _table(html, table_id):
    """{(key, currency): (clicks, sales, conversion, earnings, epc)} of a figures table."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, f"no table {table_id}"
    rows = {}
    for key, currency, cells in re.findall(
            r'<tr class="figures" data-key="([^"]*)" data-currency="(\w+)">(.*?)</tr>',
            table.group(1), re.S):
        values = dict(re.findall(r'<td class="num (\w+)">([^<]*)</td>', cells))
        rows[(key, currency)] = tuple(
            values[name].replace(" " + currency, "").strip() if name in values else None
            for name in ("clicks", "sales", "conversion", "earnings", "epc"))
    return rows


def test_clicks_and_earnings_by_product_link_and_day(shop):
    app, widget, gadget = shop
    with time_machine.travel(at(NOW), tick=True):
        ann = _signed_in(app, "ann@blog.example")
        page = ann.get("/affiliate/performance?from=2026-03-01&to=2026-03-05")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        only_to = ann.get("/affiliate/performance?to=2026-03-02").get_data(as_text=True)
        only_from = ann.get("/affiliate/performance?from=2026-03-04").get_data(as_text=True)
        since_3rd = ann.get("/affiliate/performance?from=2026-03-03&to=2026-03-05").get_data(
            as_text=True)
    assert _table(html, "overall") == {
        ("all", "USD"): ("5", "2", "40%", "10.00", "2.0000")}
    assert _table(html, "by-product") == {
        (widget, "USD"): ("3", "2", "66.67%", "10.00", "3.3333"),
        (gadget, "USD"): ("1", "0", "0%", "0.00", "0.0000"),
        ("", "USD"): ("1", "0", "0%", "0.00", "0.0000")}
    assert ">Widget<" in html and ">Gadget<" in html and "(no product)" in html
    # A sale does not say which link it came by: links have clicks only.
    assert _table(html, "by-link") == {
        (BLOG, "USD"): ("4", None, None, None, None),
        (NEWS, "USD"): ("1", None, None, None, None)}
    assert _table(html, "by-day") == {
        ("2026-03-02", "USD"): ("3", "1", "33.33%", "6.00", "2.0000"),
        ("2026-03-03", "USD"): ("1", "0", "0%", "0.00", "0.0000"),
        ("2026-03-04", "USD"): ("1", "1", "100%", "4.00", "4.0000")}
    # Without from: the first of to's month; without to: today.
    assert _table(only_to, "overall") == {("all", "USD"): ("3", "1", "33.33%", "6.00", "2.0000")}
    assert 'value="2026-03-01"' in only_to
    assert _table(only_from, "overall") == {("all", "USD"): ("1", "1", "100%", "4.00", "4.0000")}
    assert 'value="2026-03-05"' in only_from
    # From 3 March: the Widget sale of the 4th without a Widget click has no rate.
    assert _table(since_3rd, "overall") == {
        ("all", "USD"): ("2", "1", "50%", "4.00", "2.0000")}
    assert _table(since_3rd, "by-product")[(widget, "USD")] == ("0", "1", "–", "4.00", "–")


def test_days_are_the_viewers_zone(shop):
    app, _widget, _gadget = shop
    with app.app_context():
        from affsrv.affiliates.services import get_affiliate

        portal_services.set_timezone(get_affiliate("ann").id, "America/New_York")
    with time_machine.travel(at(NOW), tick=True):
        ann = _signed_in(app, "ann@blog.example")
        html = ann.get("/affiliate/performance?from=2026-03-01&to=2026-03-05").get_data(
            as_text=True)
    # 3 March 03:00Z is 2 March 22:00 in New York (UTC-5 until 8 March).
    assert _table(html, "by-day") == {
        ("2026-03-02", "USD"): ("4", "1", "25%", "6.00", "1.5000"),
        ("2026-03-04", "USD"): ("1", "1", "100%", "4.00", "4.0000")}
    assert "America/New_York" in html


def test_the_dashboard_shows_the_last_seven_days(shop):
    app, _widget, _gadget = shop
    with time_machine.travel(at(NOW), tick=True):
        ann = _signed_in(app, "ann@blog.example")
        html = ann.get("/affiliate/").get_data(as_text=True)
    assert _summary(html) == ("5", "2", "40%", "10.00", "2.0000")
    assert set(_table(html, "recent-days")) == {
        ("2026-03-02", "USD"), ("2026-03-03", "USD"), ("2026-03-04", "USD")}
    # Eight days later the clicks of the 2nd are out of the last seven days.
    with time_machine.travel(at("2026-03-09T12:00:00Z"), tick=True):
        ann = _signed_in(app, "ann@blog.example")
        html = ann.get("/affiliate/").get_data(as_text=True)
    assert _summary(html) == ("2", "1", "50%", "4.00", "2.0000")


def test_performance_csv(shop):
    app, widget, _gadget = shop
    with time_machine.travel(at(NOW), tick=True):
        ann = _signed_in(app, "ann@blog.example")
        answer = ann.get("/affiliate/performance.csv?by=product&from=2026-03-01&to=2026-03-05")
        by_link = ann.get("/affiliate/performance.csv?by=link&from=2026-03-01&to=2026-03-05")
        by_day = ann.get("/affiliate/performance.csv?by=day&from=2026-03-01&to=2026-03-05")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert {r["product"]: (r["product_name"], r["clicks"], r["sales"], r["conversion_rate"],
                           r["earnings"], r["earnings_per_click"], r["currency"])
            for r in rows}[widget] == ("Widget", "3", "2", "0.6667", "10.00", "3.3333", "USD")
    assert len(rows) == 3
    links = list(csv.DictReader(io.StringIO(by_link.get_data(as_text=True))))
    assert {(r["link"], r["clicks"], r["sales"]) for r in links} == {(BLOG, "4", ""),
                                                                     (NEWS, "1", "")}
    days = list(csv.DictReader(io.StringIO(by_day.get_data(as_text=True))))
    assert [(r["day"], r["clicks"], r["earnings"]) for r in days] == [
        ("2026-03-02", "3", "6.00"), ("2026-03-03", "1", "0.00"), ("2026-03-04", "1", "4.00")]


def test_referrals_are_the_data_apis_counts(shop):
    app, widget, gadget = shop
    ann = _signed_in(app, "ann@blog.example")
    html = ann.get("/affiliate/referrals").get_data(as_text=True)
    shown = re.findall(r'<tr class="referral"><td>([^<]*)</td><td class="link-url">([^<]*)'
                       r'</td><td class="num">(\d+)</td>', html)
    assert shown == [("(no product)", BLOG, "1"), ("Widget", BLOG, "3"), ("Gadget", NEWS, "1")]
    only = ann.get(f"/affiliate/referrals?product={gadget}").get_data(as_text=True)
    assert only.count('<tr class="referral">') == 1 and NEWS in only
    rows = list(csv.DictReader(io.StringIO(
        ann.get("/affiliate/referrals.csv").get_data(as_text=True))))
    assert [(r["product_id"], r["product"], r["link"], r["clicks"]) for r in rows] == [
        ("", "(no product)", BLOG, "1"), (widget, "Widget", BLOG, "3"),
        (gadget, "Gadget", NEWS, "1")]


def test_another_affiliate_sees_only_their_own_figures(shop):
    app, widget, _gadget = shop
    with time_machine.travel(at(NOW), tick=True):
        bob = _signed_in(app, "bob@blog.example")
        ann_id = _ann_id(app)
        query = f"from=2026-03-01&to=2026-03-05&affiliate=ann&affiliate_id={ann_id}&code=ann"
        html = bob.get("/affiliate/performance?" + query).get_data(as_text=True)
        assert _table(html, "overall") == {
            ("all", "USD"): ("2", "1", "50%", "50.00", "25.0000")}
        assert NEWS not in html and "(no product)" not in html
        rows = list(csv.DictReader(io.StringIO(bob.get(
            "/affiliate/performance.csv?by=product&" + query).get_data(as_text=True))))
        assert [(r["product"], r["clicks"], r["earnings"]) for r in rows] == [
            (widget, "2", "50.00")]
        referrals = bob.get(f"/affiliate/referrals?affiliate=ann&id={ann_id}").get_data(
            as_text=True)
        assert referrals.count('<tr class="referral">') == 1 and NEWS not in referrals
        assert bob.get("/affiliate/referrals.csv?affiliate=ann").get_data(
            as_text=True).count("\n") == 2


def _ann_id(app):
    with app.app_context():
        from affsrv.affiliates.services import get_affiliate

        return get_affiliate("ann").id


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/affiliate/performance?from=soon", 400, "from: a date as YYYY-MM-DD"),
    ("/affiliate/performance?to=2026-02-30", 400, "to: a date as YYYY-MM-DD"),
    ("/affiliate/performance?from=2026-03-05&to=2026-03-01", 400, "is after to"),
    ("/affiliate/performance?from=2020-01-01&to=2026-03-01", 400, "[reports] max_days"),
    ("/affiliate/performance?from=0001-01-01&to=0001-01-02", 400, "between 1971"),
    ("/affiliate/performance.csv?by=affiliate", 400, "by: one of product, link, day"),
    ("/affiliate/performance.csv?by=day&from=x", 400, "from: a date"),
    ("/affiliate/referrals?product=999", 404, "product"),
    ("/affiliate/referrals?product=abc", 400, "product: a positive whole number"),
    ("/affiliate/referrals.csv?product=-1", 400, "product: a positive whole number"),
])
def test_bad_input_is_a_clear_4xx(shop, path, status, message):
    app, _widget, _gadget = shop
    ann = _signed_in(app, "ann@blog.example")
    answer = ann.get(path)
    assert answer.status_code == status
    assert message in answer.get_data(as_text=True)


NEW_ROUTES = ["/affiliate/performance", "/affiliate/performance.csv", "/affiliate/referrals",
              "/affiliate/referrals.csv", "/affiliate/account/close"]


@pytest.mark.parametrize("path", NEW_ROUTES)
def test_signed_out_goes_to_sign_in(client, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/affiliate/login?next=")


def test_the_overall_row_counts_each_click_once():
    """A product with sales in two currencies has its clicks in both rows; the overall rows
    (one per currency) count them once."""
    from affsrv.reports.services import AffiliateRow

    rows = [AffiliateRow("1", "USD", 4, 1, Decimal("2.00")),
            AffiliateRow("1", "EUR", 4, 1, Decimal("3.00")),
            AffiliateRow("2", "USD", 6, 0, Decimal("0.00"))]
    assert [(r.currency, r.clicks, r.sales, r.commissions, r.earnings_per_click)
            for r in portal_services.overall(rows)] == [
        ("USD", 10, 1, Decimal("2.00"), Decimal("0.2000")),
        ("EUR", 10, 1, Decimal("3.00"), Decimal("0.3000"))]
