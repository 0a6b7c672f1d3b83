"""Report latency on seeded rollups: p50 and p99 per report, over HTTP (Flask's test client,
so parsing the query and serialising the answer are included), with the process's own CPU
time per report (the machine is shared: wall time carries other work's waiting), and the CPU
of the service call alone (``svc cpu``: the sums and typed rows, without HTTP and the JSON).
With SQLite the database works in this process, so both CPU columns include its work; with
PostgreSQL they are the client's only.

Seeds the rollups as ``--orders`` ClickBank sales (a tenth of them refunded, a fiftieth
charged back, each with a commission) and ``--clicks`` landing clicks, spread over ``--days``
days up to now, would make them: summed with numpy and bulk-inserted
(``bench/report_seed.py``; ``tests/reports/test_bench_seed.py`` proves the sums equal what the
write paths' functions add). The orders and clicks tables themselves are not filled: no report
reads them. A database that already holds the seeded rollups is reused.

For the groupings whose answer is itself large (postal codes, affiliates, links) it also
times the floor: a bare ``GROUP BY`` over a table holding one row per group and currency
(made from the month rollup), in the same run.

Usage::

    python bench/reports.py --url sqlite:///var/bench-reports.db --orders 1000000 \
        --save /tmp/r1m.json
    python bench/reports.py --url sqlite:///var/bench-r10m.db --orders 10000000 \
        --against /tmp/r1m.json      # adds the p50 ratios (wall, CPU) to the saved run
    # --clicks (default 5 x orders), --days 730, --repeat 20, --seed 1; --drop removes the
    # database (PostgreSQL) or file (SQLite) afterwards.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, text  # noqa: E402

from affsrv import create_app  # noqa: E402
from affsrv.affiliates.models import Affiliate  # noqa: E402
from affsrv.app import import_models  # noqa: E402
from affsrv.extensions import db  # noqa: E402
from affsrv.reports.keys import create_report_key  # noqa: E402
from affsrv.reports.models import sales_q  # noqa: E402
from affsrv.reports.rollups import all_rollup_tables  # noqa: E402
from bench.deep_paging import _drop, _ensure_database  # noqa: E402
from bench.report_seed import add_affiliates, generate, write_rollups  # noqa: E402


def seed(app: Any, orders: int, clicks: int, days: int, seed_value: int) -> None:
    end = int(datetime.now(UTC).replace(microsecond=0).timestamp())
    start = end - days * 86400
    began, cpu = time.perf_counter(), time.process_time()
    generated = generate(orders, clicks, start, end, seed_value)
    print(f"  generated ({time.perf_counter() - began:.0f} s)", flush=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        rows = write_rollups(db.engine, generated, log=lambda line: print(line, flush=True))
        add_affiliates(db.engine, generated.shape.affiliates)
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would have done long before a merchant asks for a report: the
            # planner's statistics and the visibility map of the tables just loaded, so the
            # runs measure the database a merchant would have (docs/reports.md).
            with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM (ANALYZE)")
    print(f"  seeded {rows} rollup rows in {time.perf_counter() - began:.0f} s "
          f"({time.process_time() - cpu:.0f} s CPU in this process)", flush=True)


#: The large-answer reports and the rollup whose groups are their floor: (query name, month
#: rollup, key column).
FLOORS = {
    "sales by postal": ("report_by_postal_m", "postal"),
    "sales by affiliate": ("report_by_affiliate_m", "affiliate"),
    "affiliates by affiliate": ("report_clicks_by_affiliate_m", "affiliate_id"),
    "affiliates by link": ("report_clicks_by_link_m", "link_id"),
}


def _floor_ms(app: Any, name: str, repeat: int) -> tuple[float, float] | None:
    """p50 ms (wall, and this process's CPU) of a bare GROUP BY over one row per group (and
    currency) of report ``name``."""
    base = next((v for k, v in FLOORS.items() if name.startswith(k + ",")), None)
    if base is None:
        return None
    source, key = base
    floor = f"bench_floor_{source}"
    sales = not source.startswith("report_clicks")
    extra = ", currency" if sales else ""
    sums = ("SUM(orders) AS orders, SUM(gross) AS gross, SUM(refunds) AS refunds, "
            "SUM(refund_amount) AS refund_amount, SUM(chargebacks) AS chargebacks, "
            "SUM(chargeback_amount) AS chargeback_amount, SUM(commissions) AS commissions"
            if sales else "SUM(clicks) AS clicks")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {floor}"))
        connection.execute(text(f"CREATE TABLE {floor} AS SELECT {key}{extra}, {sums} "
                                f"FROM {source} GROUP BY {key}{extra}"))
    times, cpus = [], []
    with app.app_context(), db.engine.connect() as connection:
        for _ in range(repeat + 1):
            began, cpu = time.perf_counter(), time.process_time()
            connection.execute(text(f"SELECT {key}{extra}, {sums} FROM {floor} "
                                    f"GROUP BY {key}{extra}")).all()
            times.append((time.perf_counter() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(times[1:]), statistics.median(cpus[1:])


def _queries(days: int) -> list[tuple[str, str, dict[str, str]]]:
    today = datetime.now(UTC).date()
    whole = {"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()}
    month = {"from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}
    queries = []
    for by in ("country", "state", "postal", "day", "hour", "weekday", "weekday-hour",
               "product", "affiliate", "account", "method"):
        queries.append((f"sales by {by}, {days} days", "sales", {"by": by, **whole}))
    queries += [
        ("sales by day, 31 days, Asia/Kathmandu", "sales",
         {"by": "day", "tz": "Asia/Kathmandu", **month}),
        (f"sales by day, {days} days, America/New_York", "sales",
         {"by": "day", "tz": "America/New_York", **whole}),
        (f"sales by weekday-hour, {days} days, Asia/Kolkata", "sales",
         {"by": "weekday-hour", "tz": "Asia/Kolkata", **whole}),
        # Days in zones whose offset is not whole hours: whole UTC hours and the quarter
        # hours of the hour holding each local midnight.
        (f"sales by day, {days} days, Asia/Kolkata", "sales",
         {"by": "day", "tz": "Asia/Kolkata", **whole}),
        (f"affiliates by day, {days} days, Asia/Kolkata", "affiliates",
         {"by": "day", "tz": "Asia/Kolkata", **whole}),
        ("sales by country, 31 days, filtered by affiliate", "sales",
         {"by": "country", "affiliate": "aff7", **month}),
        (f"sales by country, {days} days, filtered by affiliate", "sales",
         {"by": "country", "affiliate": "aff7", **whole}),
        (f"sales by day, {days} days, filtered by affiliate", "sales",
         {"by": "day", "affiliate": "aff7", **whole}),
        (f"sales by country, {days} days, filtered by product", "sales",
         {"by": "country", "product": "7", **whole}),
        # One account of five, and the country of about half the orders: filters holding a
        # large share of every order.
        ("sales by country, 31 days, filtered by account", "sales",
         {"by": "country", "account": "acct0", **month}),
        (f"sales by country, {days} days, filtered by account", "sales",
         {"by": "country", "account": "acct0", **whole}),
        (f"sales by day, {days} days, filtered by account", "sales",
         {"by": "day", "account": "acct0", **whole}),
        (f"sales by product, {days} days, filtered by country", "sales",
         {"by": "product", "country": "US", **whole}),
    ]
    for by in ("affiliate", "product", "link", "day", "country"):
        queries.append((f"affiliates by {by}, {days} days", "affiliates", {"by": by, **whole}))
    queries.append((f"affiliates by product, {days} days, filtered by country", "affiliates",
                    {"by": "product", "country": "US", **whole}))
    # The affiliate's own dashboard (affsrv.portal): by day, product and link, one affiliate.
    queries += [(f"affiliates by {by}, {span} days, one affiliate", "affiliates",
                 {"by": by, "affiliate": "aff7", **dates})
                for span, dates in ((31, month), (days, whole)) for by in ("day", "product")]
    queries.append(("today (America/New_York)", "today", {"tz": "America/New_York"}))
    return queries


def _service_cpu_ms(app: Any, path: str, params: dict[str, str], repeat: int) -> float:
    """p50 of this process's CPU ms for the report's service call alone (the database's sums
    and the typed rows, no HTTP and no serialising): with SQLite in-process, the report
    without its answer's formatting."""
    from affsrv.reports import schemas, services
    from affsrv.settings import settings

    with app.app_context():
        query = schemas.parse_query(params, path, settings("server")["timezone"], 10**6)
        by = query.by or ""
        calls = {
            "sales": lambda c: services.sales_report(c, by, query.period, query.filters),
            "affiliates": lambda c: services.affiliates_report(c, by, query.period,
                                                               query.filters),
            "today": lambda c: services.today_report(c, query.period.zone,
                                                     query.filters.account),
        }
        cpus = []
        with db.engine.connect() as connection:
            for _ in range(repeat + 1):
                cpu = time.process_time()
                calls[path](connection)
                cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(cpus[1:])


def _percentile(times: list[float], share: float) -> float:
    return times[min(len(times) - 1, round(share * (len(times) - 1)))]


def run(url: str, orders: int, clicks: int, days: int, repeat: int, seed_value: int,
        save: str | None, against: str | None) -> None:
    _ensure_database(url)
    import_models()
    app = create_app(overrides={"database": {"url": url}, "logs": {"dir": "/tmp/bench-logs"},
                                "reports": {"max_days": days + 1}})
    with app.app_context():
        db.create_all()
        seeded = db.session.scalar(select(func.coalesce(func.sum(sales_q.table.c.orders), 0)))
        key = create_report_key("bench")[1]
    if seeded:
        with app.app_context():
            # The affiliates too: without them a report narrowed to one finds no clicks.
            empty = [t.name for t in [*all_rollup_tables(), Affiliate.__table__]
                     if db.session.scalar(select(func.count()).select_from(t).limit(1)) == 0]
        if empty:  # added since the seeding: the reports would read nothing there
            raise SystemExit(f"{url} was seeded before {', '.join(empty)} existed: "
                             "seed a new database (--drop, or another --url)")
        print(f"reusing the seeded rollups ({seeded} orders)")
    else:
        print(f"seeding {orders} orders and {clicks} clicks over {days} days")
        seed(app, orders, clicks, days, seed_value)
    previous = json.loads(Path(against).read_text()) if against else {}
    client = app.test_client()
    gc.freeze()  # as `affsrv serve`'s workers do once the app is built (GunicornApp.load)
    headers = {"Authorization": f"Bearer {key}"}
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\n{'report':<52} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'svc cpu':>8}"
          f" {'rows':>7} {'floor':>7} {'fl cpu':>7}"
          + (f" {'ratio':>6} {'cpu r':>6}" if previous else ""))
    results: dict[str, dict[str, float]] = {}
    for name, path, params in _queries(days):
        times, cpus = [], []
        rows = 0
        for _ in range(repeat + 1):
            began, cpu = time.perf_counter(), time.process_time()
            answer = client.get(f"/reports/v1/{path}", query_string=params, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            body = answer.json
            rows = len(body) if isinstance(body, list) else len(body["minutes"])
        times, cpus = sorted(times[1:]), sorted(cpus[1:])  # the first run warms caches
        p50, cpu50 = statistics.median(times), statistics.median(cpus)
        results[name] = {"p50": p50, "cpu": cpu50}
        floor = _floor_ms(app, name, repeat)
        service = _service_cpu_ms(app, path, params, repeat)
        line = (f"{name:<52} {p50:8.1f} {_percentile(times, 0.99):8.1f} {cpu50:8.1f} "
                f"{service:8.1f} {rows:7d} "
                + (f"{floor[0]:7.1f} {floor[1]:7.1f}" if floor is not None
                   else f"{'':>7} {'':>7}"))
        if name in previous:  # this run's p50 (wall, CPU) over the saved run's
            before = previous[name]
            line += (f" {p50 / before['p50']:6.2f}"
                     f" {cpu50 / max(before['cpu'], 0.001):6.2f}")
        print(line, flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if save:
        Path(save).write_text(json.dumps(results, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///var/bench-reports.db")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=None, help="default: 5 x orders")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--save", help="write each report's p50 ms to this JSON file")
    parser.add_argument("--against", help="a --save file: print each p50's ratio to it")
    args = parser.parse_args()
    clicks = 5 * args.orders if args.clicks is None else args.clicks
    try:
        run(args.url, args.orders, clicks, args.days, args.repeat, args.seed, args.save,
            args.against)
    finally:
        if args.drop:
            _drop(args.url)


if __name__ == "__main__":
    main()
