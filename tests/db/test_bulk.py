"""``append_rows``: the click buffer's bulk insert (COPY on PostgreSQL, executemany on SQLite)
writes the same values SQLAlchemy would, inside the caller's transaction. ``add_sums`` and
``add_counts``: the rollups' upserts through the driver, on PostgreSQL pipelined."""

import tempfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from affsrv.db.bulk import add_counts, add_sums, append_rows, pipelined
from affsrv.extensions import db
from affsrv.reports.models import SALES_MEASURES, click_times_h, narrow_d
from affsrv.reports.rollups import SaleFact, add_sale_facts
from affsrv.tracking.models import Click, ReferralLink
from affsrv.tracking.services import CLICK_COLUMNS
from tests.helpers import add_affiliate, add_product, count_rows


def _affiliate_id(app, code):
    from affsrv.affiliates.directory import find_affiliate

    with app.test_request_context():
        return find_affiliate(code).id


def _link_id(app, url):
    with app.app_context():
        link = ReferralLink(digest=url.encode().ljust(32, b"-")[:32], url=url)
        db.session.add(link)
        db.session.commit()
        return link.id


def test_rows_read_back_as_written(app):
    aid = _affiliate_id(app, add_affiliate(app))
    pid = add_product(app)
    link = _link_id(app, "https://blog.example/a")
    at = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    rows = [
        (aid, pid, link, "203.0.113.7", "UA/1 \u00e9", at),
        (aid, None, link, "", "tab\there, new\nline, back\\slash", at),
    ]
    with app.app_context():
        with db.engine.begin() as conn:
            append_rows(conn, Click.__table__, CLICK_COLUMNS, rows)
        read = db.session.execute(
            select(Click.affiliate_id, Click.product_id, Click.link_id, Click.ip,
                   Click.user_agent, Click.created_at).order_by(Click.id)
        ).all()
    assert [tuple(r) for r in read] == rows


def test_a_failed_append_writes_nothing_and_raises_sqlalchemys_error(app):
    aid = _affiliate_id(app, add_affiliate(app))
    link = _link_id(app, "")
    now = datetime.now(UTC)
    no_such_affiliate = aid + 1000
    rows = [(aid, None, link, "", "", now), (no_such_affiliate, None, link, "", "", now)]
    with app.app_context(), pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        append_rows(conn, Click.__table__, CLICK_COLUMNS, rows)
    assert isinstance(caught.value, IntegrityError)
    assert count_rows(app, Click) == 0


def _by_country(app):
    table = narrow_d["country"].table
    with app.app_context():
        return {(r.bucket, r.country, r.currency): tuple(r[m] for m in SALES_MEASURES)
                for r in db.session.execute(select(table)).mappings()}


def test_sums_add_to_the_rows_there_and_make_the_others_exactly(app):
    """Money added through the driver is the exact sum in cents on both databases (SQLite
    keeps cents as integers: the column type's conversion is applied), counts too."""
    table = narrow_d["country"].table
    first = {(20000, "US", "USD"): (1, Decimal("19.99"), 0, Decimal("0.00"), 0,
                                     Decimal("0.00"), Decimal("2.00")),
             (20000, "DE", "EUR"): (2, Decimal("0.10"), 1, Decimal("0.10"), 0,
                                     Decimal("0.00"), Decimal("0.01"))}
    second = {(20000, "US", "USD"): (1, Decimal("0.01"), 1, Decimal("19.99"), 1,
                                      Decimal("0.01"), Decimal("-2.00")),
              (20001, "US", "USD"): (3, Decimal("1234567890.12"), 0, Decimal("0.00"), 0,
                                     Decimal("0.00"), Decimal("0.03"))}
    with app.app_context(), db.engine.begin() as conn:
        add_sums(conn, table, SALES_MEASURES, first)
    with app.app_context(), db.engine.begin() as conn, pipelined(conn):
        add_sums(conn, table, SALES_MEASURES, second)
    assert _by_country(app) == {
        (20000, "US", "USD"): (2, Decimal("20.00"), 1, Decimal("19.99"), 1, Decimal("0.01"),
                               Decimal("0.00")),
        (20000, "DE", "EUR"): first[20000, "DE", "EUR"],
        (20001, "US", "USD"): second[20001, "US", "USD"],
    }


def test_a_failed_pipelined_write_raises_sqlalchemys_error_and_writes_nothing(app):
    """An upsert that fails among others (a NULL sum) fails the transaction: the rows added
    before it in the same block are gone too, and the error is SQLAlchemy's, as from
    ``connection.execute`` (on PostgreSQL it arrives at the pipeline's end)."""
    table = narrow_d["country"].table
    good = {(20000, "US", "USD"): (1, Decimal("1.00"), 0, Decimal("0"), 0, Decimal("0"),
                                    Decimal("0.10"))}
    bad = {(20000, "FR", "EUR"): (1, None, 0, Decimal("0"), 0, Decimal("0"), Decimal("0"))}
    with (app.app_context(), pytest.raises(DBAPIError) as caught, db.engine.begin() as conn,
          pipelined(conn)):
        add_counts(conn, click_times_h.table, "clicks", {(500000,): 3})
        add_sums(conn, table, SALES_MEASURES, good)
        add_sums(conn, table, SALES_MEASURES, bad)
    assert isinstance(caught.value, IntegrityError)
    assert _by_country(app) == {}
    assert count_rows(app, click_times_h.table) == 0


def test_the_rollup_writes_of_a_sale_take_one_round_trip_on_postgresql(app):
    """A sale adds to every sales rollup (dozens of tables) in one round trip to PostgreSQL:
    libpq's trace of the connection shows the upserts sent, then one Sync, then the
    answers. One round trip each cost a ClickBank notification about half its wall time
    (docs/reports.md)."""
    fact = SaleFact(at=datetime(2026, 3, 1, 12, tzinfo=UTC), account="acct", product="1",
                    affiliate="annie", method="VISA", country="US", state="CO",
                    postal="80202", currency="USD", orders=1, gross=Decimal("10.00"),
                    commissions=Decimal("1.00"))
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name != "postgresql":
            add_sale_facts(conn, [fact])  # SQLite works in the process: no round trips
            rows = conn.exec_driver_sql("SELECT orders FROM report_sales_q").all()
            assert rows == [(1,)]
            return
        conn.exec_driver_sql("SELECT 1")  # the transaction begun before the trace
        driver = conn.connection.driver_connection
        from psycopg import pq

        with tempfile.TemporaryFile("w+") as trace:
            driver.pgconn.trace(trace.fileno())
            driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                add_sale_facts(conn, [fact])
            finally:
                driver.pgconn.untrace()
            trace.seek(0)
            messages = [line.split("\t")[2].split()[0] for line in trace if "\t" in line]
    inserts = messages.count("Execute")
    assert inserts >= 40  # one per sales rollup
    assert messages.count("Sync") == 1
    assert messages.count("ReadyForQuery") == 1
    assert messages.index("Sync") > max(i for i, m in enumerate(messages) if m == "Execute")
