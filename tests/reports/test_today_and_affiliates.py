"""Today, live (per minute and in total, every account together and each apart) and the
affiliates and links report (clicks from the landing link, the Data API's referrer call and
the click writer's batches), through the CLI and HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.clickbank.support import add_cb_account, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.reports.support import both, figures, report_key, store

TODAY = ("orders", "gross", "refunds", "refund_amount", "chargebacks", "net", "commissions")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_today_per_minute_and_per_account_in_kolkata(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    add_cb_account(app)
    add_cb_account(app, "second")
    pid = add_product(app)
    add_affiliate(app, code="annie")
    key = report_key(app)
    store(client, "Y1", "2026-03-01T18:20:00Z", "7.00")     # 23:50 on the 1st in Kolkata
    store(client, "X1", "2026-03-01T18:40:00Z", "3.00")     # 00:10 on the 2nd
    store(client, "M1", "2026-03-02T10:05:30Z", "10.00")    # 15:35:30
    store(client, "M2", "2026-03-02T10:05:50Z", "5.00", account="second")  # 15:35:50
    store(client, "M1", "2026-03-02T11:00:00Z", "-10.00", kind="RFND")     # 16:30
    with time_machine.travel(at("2026-03-02T11:59:10Z"), tick=False):      # 17:29:10
        assert api(client, api_key, "annie", commission={
            "product": pid, "saletotal": "100.00", "commtotal": "10.00"}).json["status"] == "ok"
    with time_machine.travel(at("2026-03-02T12:00:00Z"), tick=False):      # 17:30
        report = both(app, client, key, "today", tz="Asia/Kolkata")
        mine = both(app, client, key, "today", tz="Asia/Kolkata", account="myvendor")
        utc = both(app, client, key, "today")
    assert (report["day"], report["zone"]) == ("2026-03-02", "Asia/Kolkata")
    assert figures(report["total"], *TODAY) == {
        ("all", "USD"): (4, "118.00", 1, "10.00", 0, "108.00", "10.00")}
    assert [r["key"] for r in report["accounts"]] == ["shop", "myvendor", "second"]
    assert figures(report["accounts"], *TODAY) == {
        ("shop", "USD"): (1, "100.00", 0, "0.00", 0, "100.00", "10.00"),
        ("myvendor", "USD"): (2, "13.00", 1, "10.00", 0, "3.00", "0.00"),
        ("second", "USD"): (1, "5.00", 0, "0.00", 0, "5.00", "0.00")}
    assert [r["key"] for r in report["minutes"]] == ["00:10", "15:35", "16:30", "17:29"]
    assert figures(report["minutes"], *TODAY) == {
        ("00:10", "USD"): (1, "3.00", 0, "0.00", 0, "3.00", "0.00"),
        ("15:35", "USD"): (2, "15.00", 0, "0.00", 0, "15.00", "0.00"),
        ("16:30", "USD"): (0, "0.00", 1, "10.00", 0, "-10.00", "0.00"),
        ("17:29", "USD"): (1, "100.00", 0, "0.00", 0, "100.00", "10.00")}
    assert figures(mine["minutes"], "orders", "gross", "refunds") == {
        ("00:10", "USD"): (1, "3.00", 0), ("15:35", "USD"): (1, "10.00", 0),
        ("16:30", "USD"): (0, "0.00", 1)}
    # In UTC today began at 00:00Z on the 2nd: the sales at 18:20Z and 18:40Z on the 1st are
    # yesterday's.
    assert figures(utc["total"], "orders", "gross") == {("all", "USD"): (3, "115.00")}
    table = run_cli(app, "report", "today", "--tz", "Asia/Kolkata")
    assert table.exit_code == 0 and "Asia/Kolkata" in table.output


@pytest.fixture
def traffic(make_app, api_key):
    """Clicks and sales of two affiliates on two products from two countries."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    p1, p2 = add_product(app, name="Widget"), add_product(app, name="Gadget")
    add_affiliate(app, code="annie")
    add_affiliate(app, code="bob")

    def land(code, pid, link, ip, when, times=1):
        with time_machine.travel(at(when), tick=False):
            for _ in range(times):
                r = client.get(f"/r/{code}?p={pid}", headers={"Referer": link},
                               environ_base={"REMOTE_ADDR": ip})
                assert r.status_code == 302

    land("annie", p1, "https://blog.example/a", "8.8.8.8", "2026-03-02T10:00:00Z", times=4)
    land("annie", p2, "https://news.example/b", "81.2.69.160", "2026-03-03T10:00:00Z")
    land("bob", p1, "https://blog.example/a", "81.2.69.160", "2026-03-03T11:00:00Z", times=4)
    with time_machine.travel(at("2026-03-03T11:30:00Z"), tick=False):
        r = api(client, api_key, "bob", referrer={"product": p1, "ip": "81.2.69.160",
                                                 "url": "https://blog.example/a"})
        assert r.json["status"] == "ok", r.json
    for code, pid, sale, commission, ip, when in [
            ("annie", p1, "50.00", "5.00", "8.8.8.8", "2026-03-02T12:00:00Z"),
            ("bob", p1, "30.00", "3.00", "81.2.69.160", "2026-03-03T12:00:00Z")]:
        with time_machine.travel(at(when), tick=False):
            r = api(client, api_key, code, commission={"product": pid, "saletotal": sale,
                                                       "commtotal": commission, "ip": ip})
            assert r.json["status"] == "ok", r.json
    return app, client, report_key(app), str(p1), str(p2)


AFFILIATE = ("clicks", "sales", "conversion_rate", "commissions", "earnings_per_click")
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def _affiliates(traffic, **params):
    app, client, key, _, _ = traffic
    return both(app, client, key, "affiliates", **{**MARCH, **params})


def test_affiliates_by_affiliate_product_link_day_country(traffic):
    _, _, _, p1, p2 = traffic
    rows = _affiliates(traffic, by="affiliate")
    assert rows == [
        {"key": "annie", "clicks": 5, "sales": 1, "conversion_rate": "0.2000",
         "commissions": "5.00", "earnings_per_click": "1.0000", "currency": "USD"},
        {"key": "bob", "clicks": 5, "sales": 1, "conversion_rate": "0.2000",
         "commissions": "3.00", "earnings_per_click": "0.6000", "currency": "USD"},
    ]
    assert figures(_affiliates(traffic, by="product"), *AFFILIATE) == {
        (p1, "USD"): (9, 2, "0.2222", "8.00", "0.8889"),
        (p2, "USD"): (1, 0, "0.0000", "0.00", "0.0000")}
    # A sale does not say which link it came by: clicks only.
    assert figures(_affiliates(traffic, by="link"), *AFFILIATE) == {
        ("https://blog.example/a", "USD"): (9, None, None, None, None),
        ("https://news.example/b", "USD"): (1, None, None, None, None)}
    assert figures(_affiliates(traffic, by="day"), *AFFILIATE) == {
        ("2026-03-02", "USD"): (4, 1, "0.2500", "5.00", "1.2500"),
        ("2026-03-03", "USD"): (6, 1, "0.1667", "3.00", "0.5000")}
    # Countries from the IPs, offline: 8.8.8.8 is registered in the US, 81.2.69.160 in GB.
    assert figures(_affiliates(traffic, by="country"), *AFFILIATE) == {
        ("GB", "USD"): (6, 1, "0.1667", "3.00", "0.5000"),
        ("US", "USD"): (4, 1, "0.2500", "5.00", "1.2500")}


def test_affiliates_filters(traffic):
    _, _, _, p1, p2 = traffic
    assert figures(_affiliates(traffic, by="product", affiliate="bob"), *AFFILIATE) == {
        (p1, "USD"): (5, 1, "0.2000", "3.00", "0.6000")}
    assert figures(_affiliates(traffic, by="affiliate", product=p2), *AFFILIATE) == {
        ("annie", "USD"): (1, 0, "0.0000", "0.00", "0.0000")}
    assert figures(_affiliates(traffic, by="affiliate", country="US"), *AFFILIATE) == {
        ("annie", "USD"): (4, 1, "0.2500", "5.00", "1.2500")}
    assert _affiliates(traffic, by="affiliate", affiliate="nobody") == []


def test_clicks_written_in_a_batch_are_rolled_up_in_its_transaction(make_app):
    app = make_app(tracking={"click_flush_ms": 60000, "click_flush_max": 1000})
    client = app.test_client()
    pid = add_product(app)
    add_affiliate(app, code="carol")
    key = report_key(app)
    with time_machine.travel(at("2026-03-02T10:00:00Z"), tick=False):
        for ip in ("8.8.8.8", "8.8.4.4", "81.2.69.160", "2001:4860:4860::8888", "10.0.0.1"):
            client.get(f"/r/carol?p={pid}", environ_base={"REMOTE_ADDR": ip})
    assert both(app, client, key, "affiliates", by="country", **MARCH) == []
    assert app.extensions["click_buffer"].flush() == 5
    # A private address (10.0.0.1) has no country.
    assert figures(both(app, client, key, "affiliates", by="country", **MARCH),
                   "clicks", "sales") == {("US", "USD"): (3, 0), ("GB", "USD"): (1, 0),
                                          ("", "USD"): (1, 0)}
