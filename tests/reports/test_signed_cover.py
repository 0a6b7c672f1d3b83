"""The long-answer reports (sales by affiliate and by postal code, affiliates by affiliate and
by link) read a signed cover: a range's ragged days as their whole month less the month's
other days, its ragged months as their year less the other months, when that reads fewer
buckets; clicks per affiliate and per link have yearly rollups for it. The figures are those
of each sale's and click's own local day, worked out by hand, on both sides of every month
and year boundary the cover rounds over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, select

from affsrv.affiliates.models import Affiliate
from affsrv.extensions import db
from affsrv.reports.models import click_narrow_y
from affsrv.reports.rollups import SaleFact, add_sale_facts
from affsrv.reports.services import Filters, make_period, sales_report, zone_named
from affsrv.tracking.models import ReferralLink
from tests.clickbank.support import add_cb_account, run_cli
from tests.helpers import add_affiliate, add_product
from tests.reports.support import both, figures, migrate_down_and_up, report_key, store

# 7 December 2023 to 6 December 2025: read as December 2023 less its days 1 to 6, the years
# 2024 and 2025 less December 2025, and 1 to 6 December 2025 (in UTC).
SPAN = {"from": "2023-12-07", "to": "2025-12-06"}
SALES = [  # (when, affiliate, postal, amount)
    ("2023-11-30T23:59:00Z", "carol", "30303", "1.00"),   # before December 2023
    ("2023-12-03T10:00:00Z", "bob", "20202", "2.00"),     # in December 2023, before the range
    ("2023-12-06T23:59:00Z", "annie", "10101", "4.00"),   # the last minute before the range
    ("2023-12-07T00:00:00Z", "annie", "10101", "8.00"),   # its first minute
    ("2024-06-01T12:00:00Z", "annie", "20202", "16.00"),
    ("2024-12-31T23:59:00Z", "bob", "10101", "32.00"),    # the year's last minute
    ("2025-01-01T00:00:00Z", "bob", "10101", "64.00"),
    ("2025-12-06T23:59:00Z", "annie", "10101", "128.00"),  # the range's last minute
    ("2025-12-07T00:00:00Z", "bob", "20202", "256.00"),   # in December 2025, after the range
    ("2025-12-31T23:59:00Z", "carol", "30303", "512.00"),  # in the year 2025, after the range
]


@pytest.fixture
def shop(make_app):
    app = make_app(reports={"max_days": 800})
    add_cb_account(app)
    return app, app.test_client(), report_key(app)


def _expected(zone: str, column: int) -> dict[tuple[str, str], tuple[int, str]]:
    first, last = (date.fromisoformat(SPAN[k]) for k in ("from", "to"))
    sums: dict[str, list] = {}
    for sale in SALES:
        at = datetime.fromisoformat(sale[0].replace("Z", "+00:00"))
        if first <= at.astimezone(ZoneInfo(zone)).date() <= last:
            group = sums.setdefault(sale[column], [0, Decimal("0.00")])
            group[0] += 1
            group[1] += Decimal(sale[3])
    return {(k, "USD"): (n, f"{g:.2f}") for k, (n, g) in sums.items()}


def test_sales_by_hand_in_utc(shop):
    app, client, key = shop
    for n, (when, affiliate, postal, amount) in enumerate(SALES):
        store(client, f"S{n}", when, amount, affiliate=affiliate, postal=postal)
    span = {**SPAN, "tz": "UTC"}
    by_affiliate = {("annie", "USD"): (3, "152.00"), ("bob", "USD"): (2, "96.00")}
    by_postal = {("10101", "USD"): (4, "232.00"), ("20202", "USD"): (1, "16.00")}
    assert _expected("UTC", 1) == by_affiliate and _expected("UTC", 2) == by_postal
    for by, want in (("affiliate", by_affiliate), ("postal", by_postal)):
        assert figures(both(app, client, key, "sales", by=by, **span), "orders",
                       "gross") == want, by
        # The filtered report reads the wide day and quarter-hour rollups: the same figures.
        assert figures(both(app, client, key, "sales", by=by, country="US", **span),
                       "orders", "gross") == want, by
    assert figures(both(app, client, key, "affiliates", by="affiliate", **span),
                   "sales") == {k: (n,) for k, (n, _) in by_affiliate.items()}


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York", "Pacific/Kiritimati"])
def test_sales_in_zones_match_each_sale(shop, zone):
    """The range's ends are quarter hours of another UTC day: each sale in its local day."""
    app, client, key = shop
    for n, (when, affiliate, postal, amount) in enumerate(SALES):
        store(client, f"Z{n}", when, amount, affiliate=affiliate, postal=postal)
    span = {**SPAN, "tz": zone}
    for by, column in (("affiliate", 1), ("postal", 2)):
        assert figures(both(app, client, key, "sales", by=by, **span), "orders",
                       "gross") == _expected(zone, column), (by, zone)


def test_a_group_with_zero_sums_in_the_range_is_kept_one_only_outside_is_not(shop):
    """A commission recorded and reversed in the range for a sale made before it sums to
    zero, but is in the range: the group is answered (with zeros), as the plain read answers
    it. A group whose only sale is in the days the cover takes away is not answered."""
    app, _, _ = shop
    facts = [
        SaleFact(at=datetime(2023, 12, 2, tzinfo=UTC), affiliate="zed", currency="USD",
                 orders=1, gross=Decimal("9.00")),
        SaleFact(at=datetime(2024, 3, 1, tzinfo=UTC), affiliate="zed", currency="USD",
                 commissions=Decimal("5.00")),
        SaleFact(at=datetime(2024, 3, 5, tzinfo=UTC), affiliate="zed", currency="USD",
                 commissions=Decimal("-5.00")),
        SaleFact(at=datetime(2023, 12, 4, tzinfo=UTC), affiliate="yan", currency="USD",
                 orders=1, gross=Decimal("7.00")),
    ]
    with app.app_context():
        with db.engine.begin() as connection:
            add_sale_facts(connection, facts)
        period = make_period(date(2023, 12, 7), date(2025, 12, 6), zone_named("UTC"), 800)
        statements: list[str] = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)

        with db.engine.connect() as connection:
            event.listen(connection, "before_cursor_execute", seen)
            rows = sales_report(connection, "affiliate", period)
            # Every fact above has no account: this filter keeps them all, and the filtered
            # report reads the wide rollups (the plain cover).
            filtered = sales_report(connection, "affiliate", period, Filters(account=""))
    assert [(r.key, r.orders, r.gross, r.commissions) for r in rows] == [
        ("zed", 0, Decimal("0.00"), Decimal("0.00"))]
    assert [(r.key, r.orders, r.commissions) for r in filtered] == [("zed", 0, Decimal("0.00"))]
    # The cover took days away (negated sums), and then looked the zero group up.
    assert "-report_by_affiliate_d.orders" in statements[0]
    assert "report_by_affiliate_y" in statements[0]
    assert len(statements) == 3  # the sums, the look-up; then the filtered report


CLICKS = [  # (when, affiliate, link)
    ("2023-12-03T10:00:00Z", "annie", "https://a.example/1"),  # December 2023, before
    ("2023-12-06T23:59:00Z", "bob", "https://b.example/2"),    # the last minute before
    ("2023-12-07T00:00:00Z", "annie", "https://a.example/1"),  # the first minute
    ("2024-02-29T12:00:00Z", "annie", "https://b.example/2"),
    ("2024-12-31T23:59:00Z", "bob", "https://b.example/2"),    # the year's last minute
    ("2025-01-01T00:00:00Z", "bob", "https://a.example/1"),
    ("2025-12-06T23:59:00Z", "annie", "https://a.example/1"),  # the last minute
    ("2025-12-07T00:00:00Z", "bob", "https://b.example/2"),    # December 2025, after
    ("2025-12-31T23:59:00Z", "annie", "https://c.example/3"),  # the year 2025, after
]


@pytest.fixture
def clicks(make_app):
    app = make_app(reports={"max_days": 800},
                   tracking={"click_flush_ms": 60000, "click_flush_max": 1000})
    client = app.test_client()
    pid = add_product(app)
    add_affiliate(app, code="annie")
    add_affiliate(app, code="bob")
    for when, code, link in CLICKS:
        with time_machine.travel(datetime.fromisoformat(when.replace("Z", "+00:00")),
                                 tick=False):
            r = client.get(f"/r/{code}?p={pid}", headers={"Referer": link},
                           environ_base={"REMOTE_ADDR": "8.8.8.8"})
            assert r.status_code == 302
    assert app.extensions["click_buffer"].flush() == len(CLICKS)
    return app, client, report_key(app)


def _expected_clicks(zone: str, column: int) -> dict[tuple[str, str], tuple[int]]:
    first, last = (date.fromisoformat(SPAN[k]) for k in ("from", "to"))
    counts: dict[str, int] = {}
    for click in CLICKS:
        at = datetime.fromisoformat(click[0].replace("Z", "+00:00"))
        if first <= at.astimezone(ZoneInfo(zone)).date() <= last:
            counts[click[column]] = counts.get(click[column], 0) + 1
    return {(k, "USD"): (n,) for k, n in counts.items()}


def test_clicks_by_hand_in_utc(clicks):
    app, client, key = clicks
    span = {**SPAN, "tz": "UTC"}
    by_affiliate = {("annie", "USD"): (3,), ("bob", "USD"): (2,)}
    by_link = {("https://a.example/1", "USD"): (3,), ("https://b.example/2", "USD"): (2,)}
    assert _expected_clicks("UTC", 1) == by_affiliate
    assert _expected_clicks("UTC", 2) == by_link
    assert figures(both(app, client, key, "affiliates", by="affiliate", **span),
                   "clicks") == by_affiliate
    assert figures(both(app, client, key, "affiliates", by="link", **span),
                   "clicks") == by_link
    # Filtered, the wide click rollups give the same.
    assert figures(both(app, client, key, "affiliates", by="link", country="US", **span),
                   "clicks") == by_link


@pytest.mark.parametrize("zone", ["Asia/Kathmandu", "America/New_York"])
def test_clicks_in_zones_match_each_click(clicks, zone):
    app, client, key = clicks
    span = {**SPAN, "tz": zone}
    assert figures(both(app, client, key, "affiliates", by="affiliate", **span),
                   "clicks") == _expected_clicks(zone, 1)
    assert figures(both(app, client, key, "affiliates", by="link", **span),
                   "clicks") == _expected_clicks(zone, 2)


def test_the_yearly_click_rollups_hold_each_year(clicks):
    """Kept by the click writer in its batch: per UTC year (less 1970) and affiliate or link,
    and `affsrv report check` agrees with the stored clicks."""
    app, _, _ = clicks
    with app.app_context(), db.engine.connect() as connection:
        by_year = {
            name: sorted(tuple(r) for r in connection.execute(table.table.select()))
            for name, table in click_narrow_y.items()}
        ids = dict(connection.execute(select(Affiliate.code, Affiliate.id)).all())
        links = dict(connection.execute(select(ReferralLink.url, ReferralLink.id)).all())
    annie, bob = ids["annie"], ids["bob"]
    assert by_year["affiliate_id"] == sorted([
        (53, annie, 2), (53, bob, 1),              # 2023
        (54, annie, 1), (54, bob, 1),              # 2024
        (55, annie, 2), (55, bob, 2)])             # 2025
    a, b, c = (links[url] for url in ("https://a.example/1", "https://b.example/2",
                                      "https://c.example/3"))
    assert by_year["link_id"] == sorted([
        (53, a, 2), (53, b, 1), (54, b, 2), (55, a, 2), (55, b, 1), (55, c, 1)])
    assert run_cli(app, "report", "check").exit_code == 0


def test_migration_fills_the_yearly_click_rollups_from_stored_clicks(clicks, tmp_path):
    """Down to the revision before the yearly click rollups (their tables dropped), up again:
    they are counted from the stored clicks, and the reports read them."""
    app, client, key = clicks
    tables = migrate_down_and_up(app, tmp_path, "5fa61bbb94d0")
    assert {"report_clicks_by_affiliate_y", "report_clicks_by_link_y"}.isdisjoint(tables)
    assert "report_by_affiliate_y" in tables
    span = {**SPAN, "tz": "UTC"}
    assert figures(both(app, client, key, "affiliates", by="affiliate", **span),
                   "clicks") == {("annie", "USD"): (3,), ("bob", "USD"): (2,)}
    assert figures(both(app, client, key, "affiliates", by="link", **span), "clicks") == {
        ("https://a.example/1", "USD"): (3,), ("https://b.example/2", "USD"): (2,)}
    assert run_cli(app, "report", "check").exit_code == 0


def test_a_range_ending_today_reads_its_last_year_whole_less_the_days_to_come():
    """Buckets after now have no rows, so they cost nothing: two years to 6 December 2026,
    asked on that day, read December 2024 less its days 1 to 6, the years 2025 and 2026, and
    take away 7 to 31 December 2026 (empty), not the year less December plus six days."""
    from affsrv.reports.models import click_narrow_d, click_narrow_m, clicks_q
    from affsrv.reports.services import _signed_ranges

    with time_machine.travel(datetime(2026, 12, 6, 15, 0, tzinfo=UTC), tick=False):
        period = make_period(date(2024, 12, 7), date(2026, 12, 6), zone_named("UTC"), 800)
        ranges = _signed_ranges(period, clicks_q, click_narrow_d["link_id"],
                                click_narrow_m["link_id"], click_narrow_y["link_id"])
    day = datetime(2024, 12, 1, tzinfo=UTC).timestamp() // 86400
    end = datetime(2026, 12, 7, tzinfo=UTC).timestamp() // 86400
    assert sorted((t.name, low, high, sign) for t, low, high, sign, _ in ranges) == sorted([
        ("report_clicks_by_link_d", day, day + 6, -1),           # 1 to 6 December 2024
        ("report_clicks_by_link_m", (2024 - 1970) * 12 + 11, (2025 - 1970) * 12, 1),
        ("report_clicks_by_link_y", 2025 - 1970, 2027 - 1970, 1),
        ("report_clicks_by_link_d", end, end + 25, -1),          # 7 to 31 December 2026
    ])
