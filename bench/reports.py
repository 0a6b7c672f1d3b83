"""Report latency on seeded rollups: p50 and p99 per report, over HTTP (Flask's test client,
so parsing the query and serialising the answer are included).

Seeds the rollups as ``--orders`` ClickBank sales (a tenth of them refunded, a fiftieth
charged back, each with a commission) and ``--clicks`` landing clicks, spread over ``--days``
days up to now, would make them: with the very functions the write paths call
(``affsrv.reports.rollups.add_sale_facts`` / ``add_click_facts``). The orders and clicks
tables themselves are not filled: no report reads them. A database that already holds the
seeded rollups is reused.

Usage::

    python bench/reports.py --url sqlite:///var/bench-reports.db --orders 100000
    python bench/reports.py --url postgresql://postgres@127.0.0.1:5432/affsrv_reports \\
        --orders 1000000
    # --clicks (default 10 x orders), --days 730, --repeat 20, --seed 1; --drop removes the
    # database (PostgreSQL) or file (SQLite) afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from affsrv import create_app  # noqa: E402
from affsrv.app import import_models  # noqa: E402
from affsrv.extensions import db  # noqa: E402
from affsrv.reports.keys import create_report_key  # noqa: E402
from affsrv.reports.models import sales_q  # noqa: E402
from affsrv.reports.rollups import (  # noqa: E402
    ClickFact,
    SaleFact,
    add_click_facts,
    add_sale_facts,
)
from bench.deep_paging import _drop, _ensure_database  # noqa: E402

CHUNK = 50_000
COUNTRIES = ["US", "GB", "DE", "CA", "AU", "IN", "NP", "FR", "BR", "JP"] + [
    f"{a}{b}" for a in "KLMNOP" for b in "ABCDEFG"]


def _sale_facts(rng: random.Random, n: int, start: datetime, seconds: int):
    """Fact ``n`` of a time-ordered stream of sales, refunds and chargebacks."""
    at = start + timedelta(seconds=n * seconds // max(1, _sale_facts.total))  # type: ignore
    country = COUNTRIES[(int(rng.paretovariate(1.2)) - 1) % len(COUNTRIES)]
    dims = {
        "account": f"acct{rng.randrange(5)}", "product": str(rng.randrange(1, 51)),
        "affiliate": f"aff{rng.randrange(2000)}", "method": rng.choice(
            ["VISA", "MSTR", "PYPL", "AMEX", "DISC"]),
        "country": country, "state": f"S{rng.randrange(60)}" if country == "US" else "",
        "postal": f"{rng.randrange(20000):05d}",
        "currency": "USD" if rng.random() < 0.9 else "EUR",
    }
    amount = Decimal(rng.randrange(995, 19995)) / 100
    commission = (amount / 10).quantize(Decimal("0.01"))
    facts = [SaleFact(at=at, orders=1, gross=amount, commissions=commission, **dims)]
    roll = rng.random()
    if roll < 0.10:
        facts.append(SaleFact(at=at + timedelta(days=3), refunds=1, refund_amount=amount,
                              commissions=-commission, **dims))
    elif roll < 0.12:
        facts.append(SaleFact(at=at + timedelta(days=20), chargebacks=1,
                              chargeback_amount=amount, commissions=-commission, **dims))
    return facts


def seed(app, orders: int, clicks: int, days: int, seed_value: int) -> None:
    rng = random.Random(seed_value)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=days)
    seconds = days * 86400
    _sale_facts.total = orders  # type: ignore[attr-defined]
    began = time.perf_counter()
    with app.app_context():
        for low in range(0, orders, CHUNK):
            facts = []
            for n in range(low, min(orders, low + CHUNK)):
                facts.extend(_sale_facts(rng, n, start, seconds))
            with db.engine.begin() as conn:
                add_sale_facts(conn, [f for f in facts if f.at < now])
            print(f"  seeded {min(orders, low + CHUNK)} orders "
                  f"({time.perf_counter() - began:.0f} s)", flush=True)
        for low in range(0, clicks, CHUNK):
            batch = [
                ClickFact(start + timedelta(seconds=n * seconds // clicks),
                          rng.randrange(1, 2001), rng.randrange(0, 51), rng.randrange(1, 5001),
                          COUNTRIES[(int(rng.paretovariate(1.2)) - 1) % len(COUNTRIES)])
                for n in range(low, min(clicks, low + CHUNK))
            ]
            with db.engine.begin() as conn:
                add_click_facts(conn, batch)
            if (low // CHUNK) % 10 == 0 or low + CHUNK >= clicks:
                print(f"  seeded {min(clicks, low + CHUNK)} clicks "
                      f"({time.perf_counter() - began:.0f} s)", flush=True)


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
        ("sales by country, 31 days, filtered by affiliate", "sales",
         {"by": "country", "affiliate": "aff7", **month}),
    ]
    for by in ("affiliate", "product", "link", "day", "country"):
        queries.append((f"affiliates by {by}, {days} days", "affiliates", {"by": by, **whole}))
    queries.append(("today (America/New_York)", "today", {"tz": "America/New_York"}))
    return queries


def run(url: str, orders: int, clicks: int, days: int, repeat: int, seed_value: int) -> None:
    _ensure_database(url)
    import_models()
    app = create_app(overrides={"database": {"url": url}, "logs": {"dir": "/tmp/bench-logs"},
                                "reports": {"max_days": days + 1}})
    with app.app_context():
        db.create_all()
        seeded = db.session.scalar(select(func.coalesce(func.sum(sales_q.table.c.orders), 0)))
        key = create_report_key("bench")[1]
    if seeded:
        print(f"reusing the seeded rollups ({seeded} orders)")
    else:
        print(f"seeding {orders} orders and {clicks} clicks over {days} days")
        seed(app, orders, clicks, days, seed_value)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    print(f"\n{'report':<52} {'p50 ms':>8} {'p99 ms':>8} {'rows':>7}")
    for name, path, params in _queries(days):
        times = []
        rows = 0
        for _ in range(repeat + 1):
            began = time.perf_counter()
            answer = client.get(f"/reports/v1/{path}", query_string=params, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            body = answer.json
            rows = len(body) if isinstance(body, list) else len(body["minutes"])
        times = sorted(times[1:])  # the first run warms caches
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        print(f"{name:<52} {statistics.median(times):8.1f} {p99:8.1f} {rows:7d}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///var/bench-reports.db")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--clicks", type=int, default=None, help="default: 10 x orders")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    clicks = 10 * args.orders if args.clicks is None else args.clicks
    try:
        run(args.url, args.orders, clicks, args.days, args.repeat, args.seed)
    finally:
        if args.drop:
            _drop(args.url)


if __name__ == "__main__":
    main()
