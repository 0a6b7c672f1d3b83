"""Measure single parts of the hot paths on a database seeded by bench/run.py, for the figures
the README quotes beside the benchmark tables.

    python bench/run.py --db sqlite --sqlite-path /tmp/b.db --keep     # seed once, keep it
    python bench/parts.py clicks --url sqlite:////tmp/b.db             # CPU per buffered click
    python bench/parts.py clicks --url sqlite:////tmp/b.db --reindex   # ... on a rebuilt index
    python bench/parts.py clicks --url sqlite:////tmp/b.db --without-index  # ... without it
    python bench/parts.py query --url postgresql://postgres@127.0.0.1:5432/<kept database>
    python bench/parts.py directory --url sqlite:////tmp/b.db          # a worker's directory size
    python bench/parts.py encode --url sqlite:////tmp/b.db             # JSON encoding of answers

``clicks`` writes batches of random clicks (1,000 each unless ``--batch-size``) through the
click buffer's own write (link ids, bulk append, commit) and prints this process's CPU per
click for each batch; the first batches warm the caches. ``--reindex`` first rebuilds the
clicks' index, as a bulk load that builds it at the end would leave it (packed full);
``--without-index`` drops it for the batches (what the index costs a click) and builds it
again afterwards. The clicks written stay in the database.
``query`` runs the Data API's ``payments`` totals query through affsrv's read path on random
affiliates and prints the client's and the PostgreSQL server's CPU per query. ``directory``
loads the affiliate directory as a worker does on its first request and prints the memory its
Python objects take (``tracemalloc``). ``encode`` reads the ``referrals`` answers of random
affiliates through the Data API's own code and prints the CPU per answer of encoding them as
``jsonify`` does, with Flask's own JSON provider (the standard library) and with affsrv's
(orjson).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from typing import Any

from sqlalchemy import text

TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


CLICKS_INDEX = "ix_clicks_affiliate_product_link"


def measure_clicks(app: Any, affiliates: int, products: int, batches: int, batch_size: int,
                   reindex: bool, without_index: bool) -> None:
    from affsrv.db.types import utcnow
    from affsrv.extensions import db
    from affsrv.tracking.models import Click

    rng = random.Random(5)
    buffer = app.extensions["click_buffer"]
    index = next(i for i in Click.__table__.indexes if i.name == CLICKS_INDEX)
    with app.app_context():
        if reindex:
            with db.engine.begin() as conn:
                conn.execute(text(f"REINDEX {CLICKS_INDEX}"))
        if without_index:
            with db.engine.begin() as conn:
                index.drop(conn)
        try:
            for n in range(batches):
                rows = [(rng.randrange(1, affiliates + 1), rng.randrange(1, products + 1),
                         f"https://blog{rng.randrange(20)}.example/post/{rng.randrange(20) * 7}",
                         "127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", utcnow())
                        for _ in range(batch_size)]
                started = time.process_time()
                buffer._write(rows)  # what the flushing thread does with a batch
                used = time.process_time() - started
                print(f"batch {n + 1}: {used / len(rows) * 1e6:.1f} us of CPU per click")
        finally:
            if without_index:
                started = time.monotonic()
                with db.engine.begin() as conn:
                    index.create(conn)
                print(f"index {CLICKS_INDEX} rebuilt in {time.monotonic() - started:.1f} s")


def measure_query(app: Any, affiliates: int, count: int) -> None:
    from affsrv.db.reads import run_read
    from affsrv.payments.services import payment_totals

    rng = random.Random(3)
    with app.app_context():
        if run_read(lambda conn: conn.dialect.name) != "postgresql":
            raise SystemExit("query: a PostgreSQL --url is needed (the server's CPU is measured)")
        backend = run_read(lambda conn: conn.exec_driver_sql("SELECT pg_backend_pid()").scalar())
        for _ in range(300):  # warm up (psycopg prepares a statement after a few runs)
            run_read(lambda conn: payment_totals(rng.randrange(1, affiliates + 1), conn))
        client, server = time.process_time(), _process_cpu(backend)
        for _ in range(count):
            run_read(lambda conn: payment_totals(rng.randrange(1, affiliates + 1), conn))
        client, server = time.process_time() - client, _process_cpu(backend) - server
        print(f"{count} payments queries: client {client / count * 1e6:.1f} us, "
              f"server {server / count * 1e6:.1f} us of CPU per query")


def measure_directory(app: Any) -> None:
    import tracemalloc

    from affsrv.affiliates.directory import affiliate_directory

    with app.app_context():
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        directory = affiliate_directory()
        directory.get("aff1")  # the first lookup loads the whole table
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        print(f"affiliate directory: {len(directory):,} affiliates, "
              f"{used / 2**20:.1f} MB of Python objects")


def measure_encode(app: Any, affiliates: int, count: int) -> None:
    from flask.json.provider import DefaultJSONProvider

    from affsrv.dataapi.services import data_op

    rng = random.Random(5)
    with app.app_context():
        answers = [
            {"status": "ok", **data_op(f"aff{rng.randrange(1, affiliates + 1)}",
                                       {"op": "referrals", "product": None})}
            for _ in range(count)
        ]
        standard = DefaultJSONProvider(app)
        standard.sort_keys = app.json.sort_keys
        size = sum(len(standard.response(a).get_data()) for a in answers) / count
        print(f"{count} referrals answers of {size:,.0f} bytes on average")
        for name, provider in (("Flask's provider (standard library)", standard),
                               ("affsrv's provider (orjson)", app.json)):
            for answer in answers[:100]:  # warm up
                provider.response(answer)
            started = time.process_time()
            for answer in answers:
                provider.response(answer)
            used = time.process_time() - started
            print(f"{name}: {used / count * 1e6:.1f} us of CPU per answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["clicks", "query", "directory", "encode"])
    parser.add_argument("--url", required=True, help="a database seeded by bench/run.py --keep")
    parser.add_argument("--affiliates", type=int, default=100_000, help="as seeded")
    parser.add_argument("--products", type=int, default=50, help="as seeded")
    parser.add_argument("--batches", type=int, default=8, help="clicks: batches to write")
    parser.add_argument("--batch-size", type=int, default=1000, help="clicks: clicks per batch")
    parser.add_argument("--reindex", action="store_true", help="clicks: rebuild the index first")
    parser.add_argument("--without-index", action="store_true",
                        help="clicks: drop the clicks' index for the batches, build it again after")
    parser.add_argument("--count", type=int, default=3000,
                        help="query, encode: queries or answers to time")
    args = parser.parse_args()

    from affsrv import create_app

    app = create_app(overrides={"database": {"url": args.url},
                                "logs": {"dir": os.path.join(os.getcwd(), "logs")}})
    try:
        if args.part == "clicks":
            measure_clicks(app, args.affiliates, args.products, args.batches, args.batch_size,
                           args.reindex, args.without_index)
        elif args.part == "query":
            measure_query(app, args.affiliates, args.count)
        elif args.part == "encode":
            measure_encode(app, args.affiliates, args.count)
        else:
            measure_directory(app)
    finally:
        app.extensions["click_buffer"].stop()


if __name__ == "__main__":
    main()
