"""Reports over long ranges read rollups whose rows are bounded by groups and time, not by
orders: the postal codes' own month/day rollups, hourly time rollups in zones whose offsets
are whole hours, and the week-quarter month rollup for hours and weekdays over whole months
of constant offset. The figures stay exact in every zone: each time grouping is checked
against every sale's local time worked out by zoneinfo, across two years of daylight-saving
changes (New York, Berlin, Lord Howe's half-hour change), half-hour Kolkata and quarter-hour
Kathmandu, where the days are read from whole UTC hours and the quarter hours of only the hours
that hold a midnight."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from affsrv.affiliates.models import Affiliate
from affsrv.extensions import db
from affsrv.reports.models import FILTER_DIMENSIONS
from affsrv.reports.rollups import ClickFact, SaleFact, add_click_facts, add_sale_facts
from affsrv.reports.services import (
    Filters,
    _split_hours,
    affiliates_report,
    make_period,
    sales_report,
    zone_named,
)
from tests.clickbank.support import ACCOUNT, add_cb_account, run_cli
from tests.helpers import add_affiliate
from tests.reports.support import both, figures, migrate_down_and_up, report_key, store

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST, LAST = date(2025, 1, 1), date(2026, 11, 30)
# Moments either side of the zones' transitions in 2025 (UTC).
EDGES = ["2025-03-09T06:59:00Z", "2025-03-09T07:00:00Z",   # New York springs forward at 07:00
         "2025-11-02T05:59:00Z", "2025-11-02T06:00:00Z",   # and falls back at 06:00
         "2025-04-05T14:59:00Z", "2025-04-05T15:00:00Z",   # Lord Howe: +11 to +10:30 at 15:00
         "2025-10-04T15:29:00Z", "2025-10-04T15:30:00Z",   # and back at 15:30
         "2025-03-30T00:59:00Z", "2025-03-30T01:00:00Z",   # Berlin springs forward at 01:00
         "2025-06-14T18:14:00Z", "2025-06-14T18:15:00Z",   # midnight in Kathmandu (+5:45)
         "2025-06-14T18:29:00Z", "2025-06-14T18:30:00Z",   # in Kolkata (+5:30)
         "2025-06-14T13:29:00Z", "2025-06-14T13:30:00Z",   # in Lord Howe (+10:30)
         "2025-12-14T12:59:00Z", "2025-12-14T13:00:00Z",   # in Lord Howe (+11)
         "2025-01-01T00:00:00Z", "2026-11-30T23:59:00Z"]


@pytest.fixture
def shop(make_app):
    app = make_app(reports={"max_days": 800})
    add_cb_account(app)
    return app, app.test_client(), report_key(app)


def _sale_times() -> list[datetime]:
    rng = random.Random(21)
    start = datetime(2024, 12, 30, tzinfo=UTC)
    spread = [start + timedelta(minutes=rng.randrange(700 * 1440)) for _ in range(26)]
    edges = [datetime.fromisoformat(e.replace("Z", "+00:00")) for e in EDGES]
    return sorted(spread + edges)


def _expected(times: list[datetime], amounts: list[Decimal], zone: ZoneInfo, by: str,
              weights: Iterable[int] | None = None
              ) -> dict[tuple[str, str], tuple[int, str]]:
    """Per group of ``by``: how many of ``times`` (each counted ``weights`` times, else once)
    fall in it in ``zone``, and the sum of their ``amounts``."""
    sums: dict[str, list] = defaultdict(lambda: [0, Decimal("0.00")])
    for at, amount, weight in zip(times, amounts, weights or [1] * len(times), strict=True):
        local = at.astimezone(zone)
        if not FIRST <= local.date() <= LAST:
            continue
        key = {"day": local.date().isoformat(), "hour": f"{local.hour:02d}",
               "weekday": WEEKDAYS[local.weekday()],
               "weekday-hour": f"{WEEKDAYS[local.weekday()]} {local.hour:02d}"}[by]
        sums[key][0] += weight
        sums[key][1] += amount
    return {(k, "USD"): (n, f"{g:.2f}") for k, (n, g) in sums.items()}


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                                  "Asia/Kathmandu", "Asia/Kolkata", "UTC"])
def test_time_groupings_over_two_years_match_each_sales_local_time(shop, zone):
    """Days in the zones whose midnights fall inside a UTC hour (Kolkata, Kathmandu, Lord
    Howe at +10:30) are read from whole hours and only the quarter hours of the hours holding
    a midnight or a transition: each sale and each click still lands in its own local day."""
    app, client, key = shop
    times = _sale_times()
    amounts = [Decimal(n + 1) for n in range(len(times))]  # each sale's amount tells it apart
    for n, (at, amount) in enumerate(zip(times, amounts, strict=True)):
        store(client, f"B{n}", at.isoformat(), f"{amount:.2f}")
    with app.app_context(), db.engine.begin() as connection:
        # n + 1 clicks at the n-th sale's moment: each day's count tells its moments apart.
        add_click_facts(connection, [ClickFact(at, 1, 1, 0, "US")
                                     for n, at in enumerate(times) for _ in range(n + 1)])
    span = {"from": FIRST.isoformat(), "to": LAST.isoformat(), "tz": zone}
    # Narrowed to the one account or country every sale has: the filters' own time rollups
    # (``report_<filter>_times_*``, ``_week_quarters_m``) must give the same.
    for narrowed in ({}, {"account": ACCOUNT}, {"country": "US"}):
        for by in ("day", "hour", "weekday", "weekday-hour"):
            assert figures(both(app, client, key, "sales", by=by, **narrowed, **span),
                           "orders", "gross") == (
                _expected(times, amounts, ZoneInfo(zone), by)), (by, narrowed)
    days = _expected(times, amounts, ZoneInfo(zone), "day")
    clicks = _expected(times, amounts, ZoneInfo(zone), "day", weights=range(1, len(times) + 1))
    for narrowed in ({}, {"country": "US"}):
        assert figures(both(app, client, key, "affiliates", by="day", **narrowed, **span),
                       "sales", "clicks") == {k: (n, clicks[k][0]) for k, (n, _) in
                                              days.items()}, narrowed


def _executed(app, call) -> list[tuple[str, object]]:
    """Every SQL statement ``call(connection)`` runs, with its parameters."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, *args):
        seen.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            with db.engine.connect() as connection:
                call(connection)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _statements(app, call) -> str:
    """Every SQL statement ``call(connection)`` runs, joined."""
    return "\n".join(statement for statement, _ in _executed(app, call))


def test_long_reports_read_the_bounded_rollups(shop):
    app, _, _ = shop

    def sql(report, by, zone, filters=None):
        filters = filters or Filters()
        period = make_period(FIRST, LAST, zone_named(zone), 800)
        return _statements(app, lambda c: report(c, by, period, filters))

    postal = sql(sales_report, "postal", "Asia/Kolkata")
    assert "report_by_postal_m" in postal and "report_by_postal_d" in postal
    # 2025 is a whole UTC year of the range: one row per code from the yearly rollup.
    assert "report_by_postal_y" in postal
    for report in (sales_report, affiliates_report):
        assert "report_by_affiliate_y" in sql(report, "affiliate", "UTC")
    assert "_y" not in sql(sales_report, "country", "UTC")  # short answers: months suffice
    assert "report_postal_d" not in postal  # the wide rollup: about a row per order
    # A filtered postal report still reads the wide rollups (they have the filters' columns).
    assert "report_postal_d" in sql(sales_report, "postal", "UTC", Filters(country="US"))
    for zone in ("America/New_York", "Europe/Berlin", "UTC"):
        statement = sql(sales_report, "day", zone)
        assert "report_times_h" in statement and "report_times_q" not in statement
    for zone in ("Asia/Kathmandu", "Asia/Kolkata", "Australia/Lord_Howe"):
        for report, read in ((sales_report, ["times"]),
                             (affiliates_report, ["times", "click_times"])):
            statement = sql(report, "day", zone)
            for times in read:
                assert f"report_{times}_h" in statement and f"report_{times}_q" in statement
    # Hours and weekdays: the whole months of constant offset from the week-quarter rollup;
    # the months with a transition (and the ragged ends) hourly or by quarter hours.
    for by in ("hour", "weekday", "weekday-hour"):
        for zone in ("America/New_York", "Europe/Berlin"):
            statement = sql(sales_report, by, zone)
            assert "report_week_quarters_m" in statement and "report_times_h" in statement
            assert "report_times_q" not in statement
        statement = sql(sales_report, by, "UTC")  # whole months only
        assert "report_week_quarters_m" in statement and "report_times_" not in statement
        for zone in ("Asia/Kathmandu", "Asia/Kolkata", "Australia/Lord_Howe"):
            statement = sql(sales_report, by, zone)
            assert "report_week_quarters_m" in statement and "report_times_q" in statement
            assert "report_times_h" not in statement
    by_day = sql(affiliates_report, "day", "America/New_York")
    assert "report_click_times_h" in by_day and "report_times_h" in by_day
    assert "report_click_times_q" not in by_day


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_days_off_whole_hours_read_the_quarter_hours_of_about_one_hour_a_day(shop, zone):
    """Grouped by day over two years where midnights fall inside UTC hours, a report reads
    the quarter hours of the hour holding each midnight (four a day: the period starts and
    ends inside one) and every other hour whole, not the 96 quarter hours of each day. Lord
    Howe's midnights are whole UTC hours for half the year (+11): fewer still."""
    app, _, _ = shop
    period = make_period(FIRST, LAST, zone_named(zone), 800)
    days = (LAST - FIRST).days + 1
    for report in (sales_report, affiliates_report):
        listed = []  # the bucket lists bound to the statements (JSON on SQLite)
        for _, parameters in _executed(app, lambda c, r=report: r(c, "day", period, Filters())):
            for value in (parameters.values() if isinstance(parameters, dict) else parameters):
                if isinstance(value, str) and value.startswith("["):
                    value = json.loads(value)
                if isinstance(value, list):
                    listed.append(value)
        reads = 1 if report is sales_report else 2  # sales; clicks and sales
        quarters = sorted(listed, key=len)[-reads:]
        assert len(listed) == 2 * reads
        for buckets in quarters:
            if zone == "Australia/Lord_Howe":
                assert days * 2 < len(buckets) < days * 4
            else:
                assert len(buckets) == days * 4
            assert period.start // 900 <= min(buckets) and max(buckets) < period.end // 900
        plans = "\n".join(plan for _, plan in _plans(
            app, lambda c, r=report: r(c, "day", period, Filters())))
        if "Seq Scan" in plans or "Index" in plans:  # PostgreSQL
            # The hours read whole leave the others out through a hashed subquery (``<> ALL``
            # is hashed only in a plan made with the values: 170 ms instead of 45 at 1M once
            # psycopg prepared the statement), the lists of the bucket's type, integer.
            assert plans.count("hashed SubPlan") == reads, plans
            assert "::integer[]" in plans and "::bigint[]" not in plans


@pytest.mark.parametrize("zone", [
    "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns",
    "Australia/Adelaide", "Asia/Tehran", "Asia/Yangon", "Australia/Eucla", "Pacific/Chatham",
    "Pacific/Marquesas", "America/New_York", "Pacific/Apia"])
def test_every_hour_a_day_grouping_reads_whole_lies_in_one_local_day_at_one_offset(zone):
    """The invariant the hourly reads of ``_time_reads`` by day stand on, checked hour by hour with
    zoneinfo over two years (Tehran's last daylight saving, Chatham's +12:45/+13:45, Apia's
    last daylight saving, April 2021): an hour outside ``_split_hours`` begins and ends in
    the same local day, at the same offset."""
    period = make_period(date(2021, 1, 1), date(2022, 12, 31), zone_named(zone), 800)
    split = _split_hours(period)
    tz = ZoneInfo(zone)
    for hour in range(-(-period.start // 3600), period.end // 3600):
        if hour in split:
            continue
        first = datetime.fromtimestamp(hour * 3600, tz)
        last = datetime.fromtimestamp(hour * 3600 + 3599, tz)
        assert (first.date(), first.utcoffset()) == (last.date(), last.utcoffset()), hour


SALES_WIDE = ("report_sales_q", "report_sales_d", "report_postal_q", "report_postal_d")
CLICKS_WIDE = ("report_clicks_q", "report_clicks_d")


def _plans(app, call) -> list[tuple[str, str]]:
    """Each SQL statement ``call(connection)`` runs, with the database's plan for it."""
    seen = _executed(app, call)
    with app.app_context():
        plans = []
        with db.engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if not sqlite:
                # The test's tables are small enough to read whole; at scale they are not.
                connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for statement, parameters in seen:
                explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                rows = connection.exec_driver_sql(explain + statement, parameters).all()
                plans.append((statement, "\n".join(str(row[-1]) for row in rows)))
    return plans


def test_every_filter_is_applied_and_indexed_through_one_list():
    """``Filters``' fields are what ``_sums`` narrows by and what the wide rollups index
    (``FILTER_DIMENSIONS``): a field added to one alone would be silently ignored."""
    assert [f.name for f in fields(Filters)] == list(FILTER_DIMENSIONS)


@pytest.mark.parametrize("narrowed_to", ["affiliate", "product", "country", "account"])
def test_narrowed_reports_read_the_filters_own_rollups_by_their_key(shop, narrowed_to):
    """A report narrowed to one product, country or account reads that filter's rollups
    (``report_<filter>_*``, keyed by the filter first) for its whole days and months, and the
    wide rollups only for the range's ragged quarter hours and for postal codes, through the
    filter's index. Before the filtered rollups it read the wide day rollups (about a row per
    order: one account of five meant a fifth of every order in the range). Narrowed to one
    affiliate (as the affiliate's own pages are, at every view), it reads the wide rollups
    through the affiliate's index: one affiliate's rows, never every affiliate's; on
    PostgreSQL the clicks from that index alone (it includes the count)."""
    app, _, _ = shop
    code = add_affiliate(app, code="aff7")
    with app.app_context():
        affiliate_id = db.session.scalar(select(Affiliate.id).where(Affiliate.code == code))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    moments = [start + timedelta(days=d, hours=h) for d in range(40) for h in (3, 15)]
    # Sixty of each (a sixtieth of the rows for each value, as one affiliate's share of a
    # large program), so the planners prefer each filter's index to the bucket's.
    places = [f"{chr(65 + a // 26)}{chr(65 + a % 26)}" for a in range(60)]
    with app.app_context(), db.engine.begin() as connection:
        add_sale_facts(connection, [
            SaleFact(at=at, account=f"acct{a}", product=str(a + 1), affiliate=f"aff{a}",
                     method="VISA", country=places[a], state="CO", postal=f"8{a:04d}",
                     currency="USD", orders=1, gross=Decimal("10.00"),
                     commissions=Decimal("1.00"))
            for at in moments for a in range(60)])
        add_click_facts(connection, [
            ClickFact(at, affiliate_id if a == 7 else 1000 + a, a + 1, 0, places[a])
            for at in moments for a in range(60)])
        connection.exec_driver_sql("ANALYZE")
    with app.app_context(), db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:  # the visibility map autovacuum keeps: index-only scans need it
            connection.exec_driver_sql("VACUUM (ANALYZE) report_clicks_q, report_clicks_d")
    # Ragged ends in New York: the wide quarter hours are read too, and whole hours for days;
    # March whole: the month rollups.
    period = make_period(date(2026, 2, 27), date(2026, 4, 5), zone_named("America/New_York"),
                         800)
    filters = Filters(**{narrowed_to: {"affiliate": code, "product": "8", "country": places[7],
                                       "account": "acct7"}[narrowed_to]})
    f = narrowed_to
    calls = [(f"sales by {by}", lambda c, by=by: sales_report(c, by, period, filters))
             for by in ("country", "day", "postal", "affiliate", "method")]
    # What those read for their whole days and months (a filter on the grouped dimension
    # itself is a condition on that group's narrow rollup).
    wide = dict.fromkeys(("report_sales_q", "report_postal_q", "report_postal_d"), f)
    click = {"affiliate": "affiliate_id", "product": "product_id"}.get(f, f)
    if f != "account":  # the affiliates report has no account filter (clicks have none)
        calls += [(f"affiliates by {by}",
                   lambda c, by=by: affiliates_report(c, by, period, filters))
                  for by in ("day", "product", "link")]
        wide["report_clicks_q"] = click
    if f == "affiliate":  # no rollups of its own: the wide ones by its index, days too
        filtered = set()
        wide |= {"report_sales_d": f, "report_clicks_d": click}
    else:
        filtered = {f"report_{f}_times_h", f"report_{f}_by_method_d",
                    f"report_{f}_by_method_m", f"report_{f}_by_affiliate_d",
                    f"report_{f}_by_affiliate_m"}
        filtered |= ({"report_by_country_d", "report_by_country_m"} if f == "country"
                     else {f"report_{f}_by_country_d", f"report_{f}_by_country_m"})
    if f in ("product", "country"):
        filtered |= {f"report_{f}_click_times_h", f"report_{f}_clicks_by_link_d",
                     f"report_{f}_clicks_by_link_m", f"report_{f}_times_h"}
        filtered |= ({"report_clicks_by_product_d", "report_clicks_by_product_m",
                      "report_by_product_d", "report_by_product_m"} if f == "product"
                     else {f"report_{f}_clicks_by_product_d", f"report_{f}_clicks_by_product_m",
                           f"report_{f}_by_product_d", f"report_{f}_by_product_m"})
    read = set()
    covered_read = False
    for name, call in calls:
        for statement, plan in _plans(app, call):
            if (postgresql and f == "affiliate" and name == "affiliates by day"
                    and "report_clicks_q" in statement):
                # The index carries the count: the clicks are read from it alone.
                assert "Index Only Scan using ix_report_clicks_q_affiliate_id_bucket" in plan
                covered_read = True
            for table in re.findall(r"\b(report_\w+)\b", statement):
                read.add(table)
                if table in filtered and table.startswith(f"report_{f}_"):
                    # The key leads with the filter: PostgreSQL scans the primary key,
                    # SQLite searches its automatic index with the filter's value.
                    column = click if "click" in table else f
                    assert re.search(rf"pk_{table}\b|SEARCH {table} USING INDEX "
                                     rf"sqlite_autoindex_{table}_1 \({column}=", plan), plan
                elif table in wide:
                    index = f"ix_{table}_{wide[table]}_bucket"
                    # Every read of the table goes through that index (a bitmap heap scan
                    # on PostgreSQL fetches the rows its index scan found).
                    for line in plan.splitlines():
                        if (re.search(rf"\b(Scan|SCAN|SEARCH)\b.*\b{table}\b", line)
                                and "Bitmap Heap Scan" not in line):
                            assert index in line, plan
    assert read == filtered | set(wide)
    assert covered_read == (postgresql and f == "affiliate")


# Moments either side of the years' and the zones' midnights (UTC), and the postal code and
# affiliate of the sale made then.
YEAR_EDGES = [
    ("2024-06-15T03:00:00Z", "10001", "annie"),  # 14 June, 23:00 in New York
    ("2024-06-15T12:00:00Z", "10001", "bob"),
    ("2024-12-31T23:59:00Z", "80202", "annie"),
    ("2025-01-01T00:00:00Z", "80202", "annie"),
    ("2025-01-01T05:00:00Z", "10115", "bob"),    # 00:00 in New York
    ("2025-06-15T12:00:00Z", "10115", "carol"),
    ("2025-12-31T18:29:00Z", "80202", "carol"),  # 23:59 in Kolkata
    ("2025-12-31T18:30:00Z", "80202", "bob"),    # 1 January 2026 in Kolkata
    ("2025-12-31T23:59:00Z", "10001", "annie"),
    ("2026-01-01T00:00:00Z", "10001", "carol"),
    ("2026-01-01T04:59:00Z", "10115", "annie"),  # 31 December 2025 in New York
    ("2026-02-10T12:00:00Z", "80202", "bob"),
]


@pytest.mark.parametrize(("first", "last", "zone"), [
    ("2024-12-31", "2026-01-01", "UTC"), ("2025-01-01", "2025-12-31", "UTC"),
    ("2025-01-01", "2025-12-31", "Asia/Kolkata"), ("2024-06-15", "2026-02-10",
                                                   "America/New_York"),
    ("2024-06-16", "2026-01-31", "Asia/Kathmandu")])
def test_postal_and_affiliate_over_whole_years_match_each_sale(shop, first, last, zone):
    """The long-answer groups read whole UTC years from their yearly rollups: each sale still
    counts in its own local day's range, and the answers equal the filtered reports' (which
    read the country's rollup by affiliate, and the wide postal rollups)."""
    app, client, key = shop
    for n, (when, postal, affiliate) in enumerate(YEAR_EDGES):
        store(client, f"Y{n}", when, f"{n + 1}.00", postal=postal, affiliate=affiliate)
    span = {"from": first, "to": last, "tz": zone}
    for by, column in (("postal", 1), ("affiliate", 2)):
        expected: dict = defaultdict(lambda: [0, Decimal("0.00")])
        for n, edge in enumerate(YEAR_EDGES):
            at = datetime.fromisoformat(edge[0].replace("Z", "+00:00"))
            if date.fromisoformat(first) <= at.astimezone(ZoneInfo(zone)).date() <= (
                    date.fromisoformat(last)):
                expected[(edge[column], "USD")][0] += 1
                expected[(edge[column], "USD")][1] += n + 1
        want = {k: (n, f"{g:.2f}") for k, (n, g) in expected.items()}
        assert figures(both(app, client, key, "sales", by=by, **span), "orders",
                       "gross") == want, by
        assert figures(both(app, client, key, "sales", by=by, country="US", **span),
                       "orders", "gross") == want, by
    assert figures(both(app, client, key, "affiliates", by="affiliate", **span), "sales") == {
        k: (n,) for k, (n, _) in want.items()}


def test_migration_fills_the_bounded_rollups_from_stored_data(shop, tmp_path):
    """Down to just before the revision adding them (their tables dropped), up again: they are
    counted from the stored orders, as the writes would have."""
    app, client, key = shop
    store(client, "M1", "2026-03-02T10:05:00Z", "50.00", postal="80202")
    store(client, "M2", "2026-03-20T23:50:00Z", "20.00", postal="80202")
    store(client, "M3", "2026-04-02T10:05:00Z", "7.00", postal="10115", country="DE")
    tables = migrate_down_and_up(app, tmp_path, "d01e5cec1fd7-1")
    assert {"report_by_postal_m", "report_times_h", "report_click_times_h"}.isdisjoint(tables)
    span = {"from": "2026-01-01", "to": "2026-06-30"}
    assert figures(both(app, client, key, "sales", by="postal", **span), "orders", "gross") == {
        ("80202", "USD"): (2, "70.00"), ("10115", "USD"): (1, "7.00")}
    assert figures(both(app, client, key, "sales", by="weekday", tz="America/New_York",
                        **span), "orders", "gross") == {
        ("Monday", "USD"): (1, "50.00"),     # 2 March, 05:05 in New York
        ("Friday", "USD"): (1, "20.00"),     # 20 March, 19:50 (daylight time from 8 March)
        ("Thursday", "USD"): (1, "7.00")}    # 2 April, 06:05
    assert run_cli(app, "report", "check").exit_code == 0


def test_migration_fills_the_yearly_rollups_from_stored_data(shop, tmp_path):
    """Down to the revision before the yearly rollups (their tables dropped), up again: they
    are counted from the stored orders, and a report over a whole year reads them."""
    app, client, key = shop
    store(client, "Y1", "2025-03-02T10:05:00Z", "50.00", postal="80202", affiliate="annie")
    store(client, "Y2", "2025-12-31T23:50:00Z", "20.00", postal="80202", affiliate="bob")
    store(client, "Y3", "2026-01-01T00:05:00Z", "7.00", postal="10115", affiliate="bob")
    tables = migrate_down_and_up(app, tmp_path, "d01e5cec1fd7")
    assert {"report_by_postal_y", "report_by_affiliate_y"}.isdisjoint(tables)
    assert "report_by_postal_m" in tables
    span = {"from": "2025-01-01", "to": "2025-12-31", "tz": "UTC"}
    assert figures(both(app, client, key, "sales", by="postal", **span), "orders", "gross") == {
        ("80202", "USD"): (2, "70.00")}
    assert figures(both(app, client, key, "sales", by="affiliate", **span), "orders",
                   "gross") == {("annie", "USD"): (1, "50.00"), ("bob", "USD"): (1, "20.00")}
    assert run_cli(app, "report", "check").exit_code == 0


def test_migration_fills_the_filtered_rollups_from_stored_data(shop, tmp_path):
    """Down to the revision before the filtered rollups (their tables dropped), up again:
    they are counted from the stored orders and clicks, and the narrowed reports read them."""
    app, client, key = shop
    add_cb_account(app, "OTHERACCT")
    store(client, "F1", "2026-03-02T10:05:00Z", "50.00", affiliate="annie")
    store(client, "F2", "2026-03-20T23:50:00Z", "20.00", affiliate="bob", country="DE")
    store(client, "F3", "2026-04-02T10:05:00Z", "7.00", affiliate="annie",
          account="OTHERACCT")
    code = add_affiliate(app, code="carol")
    for ip in ("8.8.8.8", "8.8.8.8", "81.2.69.160"):  # two from the US, one from the UK
        assert client.get(f"/r/{code}", environ_base={"REMOTE_ADDR": ip}).status_code == 302
    tables = migrate_down_and_up(app, tmp_path, "b5e1d9c3a7f2-1")
    assert {"report_account_by_affiliate_m", "report_country_times_h",
            "report_country_clicks_by_affiliate_d"}.isdisjoint(tables)
    assert "report_by_affiliate_m" in tables
    span = {"from": "2026-01-01", "to": "2026-06-30", "tz": "UTC"}
    assert figures(both(app, client, key, "sales", by="affiliate", account=ACCOUNT, **span),
                   "orders", "gross") == {("annie", "USD"): (1, "50.00"),
                                          ("bob", "USD"): (1, "20.00")}
    assert figures(both(app, client, key, "sales", by="weekday", country="US", **span),
                   "orders", "gross") == {("Monday", "USD"): (1, "50.00"),
                                          ("Thursday", "USD"): (1, "7.00")}
    today = datetime.now(UTC).date().isoformat()
    assert figures(both(app, client, key, "affiliates", by="affiliate", country="US",
                        **{"from": today, "to": today, "tz": "UTC"}), "clicks") == {
        (code, "USD"): (2,)}
    assert run_cli(app, "report", "check").exit_code == 0
