"""The sales report through the CLI and HTTP: every group and filter, on hand-computed figures
from ClickBank transactions (sales, a refund, a chargeback, a test sale, two accounts, two
currencies) and a shop's Data API commissions (a sale, and a sale then refunded)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.clickbank.support import add_cb_account
from tests.helpers import add_affiliate, add_product, api
from tests.reports.support import both, figures, report_key, store

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
FIGURES = ("orders", "gross", "refunds", "refund_amount", "chargebacks", "chargeback_amount",
           "net", "commissions", "refund_rate")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def shop(make_app, api_key):
    """The scenario every test here reports on (times are when each was stored)."""
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    add_cb_account(app)
    add_cb_account(app, "second")
    p1 = add_product(app, name="Widget", sku="WIDGET-1", commission_rate="10")
    p2 = add_product(app, name="Gadget", sku="GADGET-2", commission_rate="20")
    add_affiliate(app, code="annie")
    add_affiliate(app, code="bob")

    def cb(receipt, when, amount, **fields):
        with time_machine.travel(at(when), tick=False):
            store(client, receipt, when, amount, **fields)

    def data_api(code, when, **commission):
        with time_machine.travel(at(when), tick=False):
            r = api(client, api_key, code, commission=commission)
            assert r.json["status"] == "ok", r.json

    cb("R1", "2026-03-02T10:05:00Z", "50.00", state="CO", postal="80202", affiliate="annie")
    cb("R2", "2026-03-02T23:50:00Z", "20.00", currency="EUR", country="DE", state="BE",
       postal="10115", method="PYPL", item="GADGET-2")
    cb("R1", "2026-03-03T09:00:00Z", "-50.00", kind="RFND", state="CO", postal="80202",
       affiliate="annie")
    cb("R3", "2026-03-03T12:00:00Z", "30.00", state="NY", postal="10001", method="MSTR",
       affiliate="bob", account="second")
    cb("R3", "2026-03-04T08:00:00Z", "30.00", kind="CGBK", state="NY", postal="10001",
       method="MSTR", affiliate="bob", account="second")
    cb("R4", "2026-03-02T10:10:00Z", "99.00", kind="TEST_SALE", state="CO", postal="80202",
       affiliate="annie")
    data_api("annie", "2026-03-04T15:30:00Z", product=p2, saletotal="100.00",
             commtotal="15.00", ip="8.8.8.8", ref="shop-1")
    data_api("bob", "2026-03-05T01:00:00Z", product=p1, saletotal="40.00", commtotal="4.00",
             ip="81.2.69.160", ref="shop-2")
    data_api("bob", "2026-03-06T10:00:00Z", product=p1, type="refund", ref="shop-2")
    return app, client, report_key(app), str(p1), str(p2)


def sales(shop, **params):
    app, client, key, _, _ = shop
    return figures(both(app, client, key, "sales", **{**MARCH, **params}), *FIGURES)


def test_by_country_with_ip_countries_for_shop_sales_ledger_currency_first(shop):
    app, client, key, _, _ = shop
    rows = both(app, client, key, "sales", by="country", **MARCH)
    # US: R1 50 (refunded), R3 30 (charged back), shop-1 100 (8.8.8.8); commissions
    # 5 - 5 + 3 - 3 + 15. GB: shop-2 40 (81.2.69.160), refunded. The test sale never counts.
    assert rows == [
        {"key": "US", "orders": 3, "gross": "180.00", "refunds": 1, "refund_amount": "50.00",
         "chargebacks": 1, "chargeback_amount": "30.00", "net": "100.00",
         "commissions": "15.00", "refund_rate": "0.3333", "currency": "USD"},
        {"key": "GB", "orders": 1, "gross": "40.00", "refunds": 1, "refund_amount": "40.00",
         "chargebacks": 0, "chargeback_amount": "0.00", "net": "0.00",
         "commissions": "0.00", "refund_rate": "1.0000", "currency": "USD"},
        {"key": "DE", "orders": 1, "gross": "20.00", "refunds": 0, "refund_amount": "0.00",
         "chargebacks": 0, "chargeback_amount": "0.00", "net": "20.00",
         "commissions": "0.00", "refund_rate": "0.0000", "currency": "EUR"},
    ]


def test_by_account_clickbank_nickname_or_the_shop(shop):
    assert sales(shop, by="account") == {
        ("shop", "USD"): (2, "140.00", 1, "40.00", 0, "0.00", "100.00", "15.00", "0.5000"),
        ("myvendor", "USD"): (1, "50.00", 1, "50.00", 0, "0.00", "0.00", "0.00", "1.0000"),
        ("second", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("myvendor", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }


def test_by_product_affiliate_method_state_postal(shop):
    _, _, _, p1, p2 = shop
    assert sales(shop, by="product") == {
        (p1, "USD"): (3, "120.00", 2, "90.00", 1, "30.00", "0.00", "0.00", "0.6667"),
        (p2, "USD"): (1, "100.00", 0, "0.00", 0, "0.00", "100.00", "15.00", "0.0000"),
        (p2, "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    assert sales(shop, by="affiliate") == {
        ("annie", "USD"): (2, "150.00", 1, "50.00", 0, "0.00", "100.00", "15.00", "0.5000"),
        ("bob", "USD"): (2, "70.00", 1, "40.00", 1, "30.00", "0.00", "0.00", "0.5000"),
        ("", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    assert sales(shop, by="method") == {
        ("", "USD"): (2, "140.00", 1, "40.00", 0, "0.00", "100.00", "15.00", "0.5000"),
        ("VISA", "USD"): (1, "50.00", 1, "50.00", 0, "0.00", "0.00", "0.00", "1.0000"),
        ("MSTR", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("PYPL", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    assert sales(shop, by="state") == {
        ("", "USD"): (2, "140.00", 1, "40.00", 0, "0.00", "100.00", "15.00", "0.5000"),
        ("CO", "USD"): (1, "50.00", 1, "50.00", 0, "0.00", "0.00", "0.00", "1.0000"),
        ("NY", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("BE", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    assert sales(shop, by="postal") == {
        ("", "USD"): (2, "140.00", 1, "40.00", 0, "0.00", "100.00", "15.00", "0.5000"),
        ("80202", "USD"): (1, "50.00", 1, "50.00", 0, "0.00", "0.00", "0.00", "1.0000"),
        ("10001", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("10115", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }


def test_by_day_hour_weekday_in_utc(shop):
    app, client, key, _, _ = shop
    rows = both(app, client, key, "sales", by="day", **MARCH)
    assert [(r["key"], r["currency"], r["orders"], r["gross"], r["refund_amount"],
             r["chargeback_amount"], r["commissions"]) for r in rows] == [
        ("2026-03-02", "USD", 1, "50.00", "0.00", "0.00", "5.00"),
        ("2026-03-03", "USD", 1, "30.00", "50.00", "0.00", "-2.00"),
        ("2026-03-04", "USD", 1, "100.00", "0.00", "30.00", "12.00"),
        ("2026-03-05", "USD", 1, "40.00", "0.00", "0.00", "4.00"),
        ("2026-03-06", "USD", 0, "0.00", "40.00", "0.00", "-4.00"),
        ("2026-03-02", "EUR", 1, "20.00", "0.00", "0.00", "0.00"),
    ]
    assert sales(shop, by="hour") == {
        ("01", "USD"): (1, "40.00", 0, "0.00", 0, "0.00", "40.00", "4.00", "0.0000"),
        ("08", "USD"): (0, "0.00", 0, "0.00", 1, "30.00", "-30.00", "-3.00", None),
        ("09", "USD"): (0, "0.00", 1, "50.00", 0, "0.00", "-50.00", "-5.00", None),
        ("10", "USD"): (1, "50.00", 1, "40.00", 0, "0.00", "10.00", "1.00", "1.0000"),
        ("12", "USD"): (1, "30.00", 0, "0.00", 0, "0.00", "30.00", "3.00", "0.0000"),
        ("15", "USD"): (1, "100.00", 0, "0.00", 0, "0.00", "100.00", "15.00", "0.0000"),
        ("23", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    # 2026-03-02 was a Monday.
    assert sales(shop, by="weekday") == {
        ("Monday", "USD"): (1, "50.00", 0, "0.00", 0, "0.00", "50.00", "5.00", "0.0000"),
        ("Tuesday", "USD"): (1, "30.00", 1, "50.00", 0, "0.00", "-20.00", "-2.00", "1.0000"),
        ("Wednesday", "USD"): (1, "100.00", 0, "0.00", 1, "30.00", "70.00", "12.00",
                               "0.0000"),
        ("Thursday", "USD"): (1, "40.00", 0, "0.00", 0, "0.00", "40.00", "4.00", "0.0000"),
        ("Friday", "USD"): (0, "0.00", 1, "40.00", 0, "0.00", "-40.00", "-4.00", None),
        ("Monday", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000"),
    }
    weekday_hours = sales(shop, by="weekday-hour")
    assert sorted(weekday_hours) == sorted([
        ("Monday 10", "USD"), ("Tuesday 09", "USD"), ("Tuesday 12", "USD"),
        ("Wednesday 08", "USD"), ("Wednesday 15", "USD"), ("Thursday 01", "USD"),
        ("Friday 10", "USD"), ("Monday 23", "EUR")])
    assert weekday_hours[("Friday 10", "USD")] == (
        0, "0.00", 1, "40.00", 0, "0.00", "-40.00", "-4.00", None)


def test_filters_account_product_affiliate_country(shop):
    _, _, _, p1, p2 = shop
    assert sales(shop, by="country", account="second") == {
        ("US", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000")}
    assert sales(shop, by="country", product=p2) == {
        ("US", "USD"): (1, "100.00", 0, "0.00", 0, "0.00", "100.00", "15.00", "0.0000"),
        ("DE", "EUR"): (1, "20.00", 0, "0.00", 0, "0.00", "20.00", "0.00", "0.0000")}
    assert sales(shop, by="country", affiliate="bob") == {
        ("US", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("GB", "USD"): (1, "40.00", 1, "40.00", 0, "0.00", "0.00", "0.00", "1.0000")}
    assert sales(shop, by="account", country="gb") == {
        ("shop", "USD"): (1, "40.00", 1, "40.00", 0, "0.00", "0.00", "0.00", "1.0000")}
    assert sales(shop, by="day", account="myvendor", product=p1) == {
        ("2026-03-02", "USD"): (1, "50.00", 0, "0.00", 0, "0.00", "50.00", "5.00", "0.0000"),
        ("2026-03-03", "USD"): (0, "0.00", 1, "50.00", 0, "0.00", "-50.00", "-5.00", None)}


def test_dates_are_inclusive(shop):
    # Only 2026-03-03 and 2026-03-04 (UTC): R1's refund, R3, R3's chargeback, shop-1.
    assert sales(shop, by="account", **{"from": "2026-03-03", "to": "2026-03-04"}) == {
        ("shop", "USD"): (1, "100.00", 0, "0.00", 0, "0.00", "100.00", "15.00", "0.0000"),
        ("second", "USD"): (1, "30.00", 0, "0.00", 1, "30.00", "0.00", "0.00", "0.0000"),
        ("myvendor", "USD"): (0, "0.00", 1, "50.00", 0, "0.00", "-50.00", "-5.00", None),
    }


def test_csv_over_http_and_the_cli_table(shop):
    from tests.clickbank.support import run_cli
    from tests.reports.support import http_csv

    app, client, key, _, _ = shop
    rows = http_csv(client, key, "sales", by="country", **MARCH)
    assert list(rows[0]) == ["key", "orders", "gross", "refunds", "refund_amount",
                             "chargebacks", "chargeback_amount", "net", "commissions",
                             "refund_rate", "currency"]
    assert [(r["key"], r["gross"], r["net"], r["currency"]) for r in rows] == [
        ("US", "180.00", "100.00", "USD"), ("GB", "40.00", "0.00", "USD"),
        ("DE", "20.00", "20.00", "EUR")]
    cli_csv = run_cli(app, "report", "sales", "--by", "country", "--from", "2026-03-01",
                      "--to", "2026-03-31", "--format", "csv")
    assert cli_csv.exit_code == 0
    answer = client.get("/reports/v1/sales", query_string={"by": "country", **MARCH,
                                                            "format": "csv", "key": key})
    # The same CSV (HTTP ends lines with CRLF, as RFC 4180 says; a terminal shows LF).
    assert cli_csv.output == answer.get_data(as_text=True).replace("\r\n", "\n")
    table = run_cli(app, "report", "sales", "--by", "country", "--from", "2026-03-01",
                    "--to", "2026-03-31")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["key", "orders", "gross", "refunds", "refund_amount",
                                "chargebacks", "chargeback_amount", "net", "commissions",
                                "refund_rate", "currency"]
    assert lines[1].split() == ["US", "3", "180.00", "1", "50.00", "1", "30.00", "100.00",
                                "15.00", "0.3333", "USD"]


def test_a_paid_commission_refunded_later_counts_its_refund_on_the_refund_day(make_app,
                                                                             api_key):
    """A paid commission is taken back by a negative twin (the clawback), and the report
    dates the refund at the clawback, not at the payout that last changed the sale (mutmut's
    ``reverse_commission`` 99 and 103 announced the clawback without its twin)."""
    from affsrv.affiliates.services import get_affiliate
    from affsrv.payments.services import record_payment

    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    product = add_product(app)
    add_affiliate(app, code="carol")
    with time_machine.travel(at("2026-03-02T10:00:00Z"), tick=False):
        r = api(client, api_key, "carol", commission={
            "product": product, "saletotal": "80.00", "commtotal": "8.00", "ref": "paid-1"})
        assert r.json["status"] == "ok", r.json
    with time_machine.travel(at("2026-03-03T10:00:00Z"), tick=False), app.app_context():
        record_payment(get_affiliate("carol"), method="PayPal", amount="8.00")
    with time_machine.travel(at("2026-03-05T10:00:00Z"), tick=False):
        r = api(client, api_key, "carol", commission={"product": product, "type": "refund",
                                                      "ref": "paid-1"})
        assert r.json["status"] == "ok", r.json
    rows = both(app, client, report_key(app), "sales", by="day", **MARCH)
    assert figures(rows, "orders", "refunds", "refund_amount", "commissions") == {
        ("2026-03-02", "USD"): (1, 0, "0.00", "8.00"),
        ("2026-03-05", "USD"): (0, 1, "80.00", "-8.00"),
    }
