"""Deep paging of the REST API's lists on a million orders.

Seeds ``--rows`` orders with bulk inserts (once; a database that already holds them is reused),
then times through HTTP (Flask's test client, so serialisation is included):

- page 1;
- page N cold: no page cursor remembered (a client jumping straight to page N);
- page N warm: page N-1 was served just before (a client walking the pages, as ClickBank
  clients do until the answer is 200);
- for comparison, the same page by plain ``OFFSET`` over whole rows.

Usage::

    python bench/deep_paging.py --url sqlite:///var/bench.db
    python bench/deep_paging.py --url postgresql://postgres@127.0.0.1:5432/affsrv_bench
    # --rows 1000000 --page 5000 --repeat 5 are the defaults; --drop removes the database
    # (PostgreSQL) or file (SQLite) afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from affsrv import create_app
from affsrv.app import import_models
from affsrv.clerkkeys.services import create_clerk_key
from affsrv.config import database_url
from affsrv.extensions import db
from affsrv.orders.models import Order
from affsrv.restapi import paging
from affsrv.restapi.queries import ORDER_KEYS

START = datetime(2020, 1, 1, tzinfo=UTC)


def _ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        path = url.split("sqlite:///", 1)[1]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return
    sa_url = make_url(database_url({"database": {"url": url}}))
    admin = create_engine(sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": sa_url.database}):
            conn.execute(text(f'CREATE DATABASE "{sa_url.database}"'))
    admin.dispose()


def _drop(url: str) -> None:
    if not url.startswith("postgres"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.split("sqlite:///", 1)[1] + suffix).unlink(missing_ok=True)
        return
    sa_url = make_url(database_url({"database": {"url": url}}))
    admin = create_engine(sa_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{sa_url.database}" WITH (FORCE)'))
    admin.dispose()


def _row(n: int) -> dict[str, Any]:
    return {
        "source": "clickbank", "account": "bench", "receipt": f"R{n:09d}",
        "transaction_type": "SALE", "vendor": "bench", "affiliate_nickname": "aff",
        "role": "VENDOR", "payment_method": "VISA", "currency": "USD",
        "total_order_amount": Decimal("49.95"), "total_account_amount": Decimal("40.00"),
        # An order a minute, every third one sharing its second with the next (ties are
        # ordered by id): about two years of orders for a million rows.
        "transaction_time": START + timedelta(seconds=(n - n % 3 // 2) * 60),
        "utc_offset_minutes": 0, "order_language": "EN", "declined_consent": False,
        "is_test": False, "tracking_codes": [], "vendor_variables": {},
        "billing_first_name": "Ann", "billing_last_name": "Lee", "billing_full_name": "Ann Lee",
        "billing_email": f"b{n}@example.com", "shipping_full_name": "Ann Lee",
        "shipping_address1": "1 Main St", "shipping_city": "Boise", "shipping_country": "US",
        "physical": True, "created_at": START,
        **{f"{p}_{f}": "" for p in ("billing", "shipping") for f in (
            "phone", "address2", "county", "state", "postal_code")},
        "billing_address1": "", "billing_city": "", "billing_country": "",
        "shipping_first_name": "Ann", "shipping_last_name": "Lee", "shipping_email": "",
    }


def seed(rows: int) -> None:
    have = db.session.scalar(select(func.count(Order.id)))
    if have >= rows:
        print(f"database already holds {have} orders")
        return
    started = time.perf_counter()
    batch = 20_000
    for first in range(have, rows, batch):
        db.session.execute(insert(Order), [_row(n) for n in range(first,
                                                                  min(first + batch, rows))])
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE orders"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"seeded {rows - have} orders in {time.perf_counter() - started:.1f} s")


def _time(call: Any, repeat: int, before: Any = None) -> float:
    runs = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    _ensure_database(args.url)
    import_models()
    app = create_app(overrides={"database": {"url": args.url}, "server": {"cache_seconds": 0}})
    with app.app_context():
        db.create_all()
        seed(args.rows)
        header = create_clerk_key(["api_order_read"], "bench", sites=["bench"])[1]
        dialect = db.engine.dialect.name
    client = app.test_client()
    days = (datetime.now(UTC) - START).days + 2
    results = {}
    for name, path, params in (
        ("shipping2/list", "/rest/1.3/shipping2/list", {"days": days, "status": "all"}),
        ("shipping2/list status=notshipped", "/rest/1.3/shipping2/list",
         {"days": days, "status": "notshipped"}),
        ("orders2/list", "/rest/1.3/orders2/list", {}),
    ):
        def get(page: int, path: str = path, params: dict[str, Any] = params) -> None:
            r = client.get(path, query_string=params, headers={
                "Authorization": header, "Accept": "application/json", "Page": str(page)})
            assert r.status_code in (200, 206), r.data[:200]

        results[name, "page 1"] = _time(lambda g=get: g(1), args.repeat, paging.forget_all)
        results[name, f"page {args.page} cold"] = _time(
            lambda g=get: g(args.page), args.repeat, paging.forget_all)
        results[name, f"page {args.page} warm"] = _time(
            lambda g=get: g(args.page), args.repeat,
            lambda g=get: (paging.forget_all(), g(args.page - 1)))

    with app.app_context():
        offset = (args.page - 1) * paging.PAGE_SIZE
        plain = select(Order).order_by(*ORDER_KEYS).offset(offset).limit(101)
        results["orders (plain OFFSET, for comparison)", f"page {args.page}"] = _time(
            lambda: list(db.session.scalars(plain)), args.repeat)

    print(f"\n{dialect}, {args.rows} orders, median of {args.repeat} runs:")
    for (name, what), ms in results.items():
        print(f"  {name:40} {what:17} {ms:9.1f} ms")
    if args.drop:
        with app.app_context():
            db.engine.dispose()
        _drop(args.url)


if __name__ == "__main__":
    main()
