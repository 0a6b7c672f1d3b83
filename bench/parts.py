"""Measure single parts of the hot paths on a database seeded by bench/run.py, for the figures
the README quotes beside the benchmark tables.

    python bench/run.py --db sqlite --sqlite-path /tmp/b.db --keep     # seed once, keep it
    python bench/parts.py clicks --url sqlite:////tmp/b.db             # CPU per buffered click
    python bench/parts.py query --url postgresql://postgres@127.0.0.1:5432/<kept database>
    python bench/parts.py directory --url sqlite:////tmp/b.db          # a worker's directory size
    python bench/parts.py encode --url sqlite:////tmp/b.db             # JSON encoding of answers
    python bench/parts.py top-affiliate --url sqlite:////tmp/b.db --count 20  # referrals of a
                                                                       # million-click affiliate
    python bench/parts.py money --url sqlite:////tmp/b.db              # money read back
    python bench/parts.py drain --url sqlite:////tmp/b.db              # BodyDrain on a GET
    python bench/parts.py ops --url postgresql://postgres@127.0.0.1:5432/<kept database>
    python bench/parts.py steps --url postgresql://postgres@127.0.0.1:5432/<kept database>

``clicks`` writes batches of random clicks (1,000 each unless ``--batch-size``) through the
click buffer's own write (link ids, bulk append, click counts, commit) and prints this
process's CPU per click for each batch; the first batches warm the caches. The clicks written
stay in the database.
``query`` runs the Data API's ``payments`` totals query through affsrv's read path on random
affiliates and prints the client's and the PostgreSQL server's CPU per query. ``directory``
loads the affiliate directory as a worker does on its first request and prints the memory its
Python objects take (``tracemalloc``). ``encode`` reads the ``referrals`` answers of random
affiliates through the Data API's own code and prints the CPU per answer of encoding them as
``jsonify`` does, with Flask's own JSON provider (the standard library) and with affsrv's
(orjson). ``top-affiliate`` adds an affiliate with ``--clicks`` clicks (a million by default;
written through the click buffer, so they stay) and times the ``referrals`` op for it.
``money`` fetches the raw rows of the ``commissions`` totals of random affiliates and times
turning their amounts into ``Decimal`` with the money column type's result processor (what the
Data API's reads do); run it with ``PYTHONPATH`` pointing at a checkout of other code to compare
that code's conversion. ``drain`` times ``drain_body`` (the ``BodyDrain`` middleware's work) on
a landing link's request, which has no body. ``ops`` times each Data API op's service call
(``data_op``: the directory, the read connection, the rows made into the answer; no HTTP) on
random affiliates and prints the best of ``--rounds`` rounds' CPU per call, this process's and
on PostgreSQL the server's; run it with ``PYTHONPATH`` pointing at another checkout to compare
that code's read path. ``steps`` times, alone, two of the steps every Data API call takes
(``is_valid_api_key``, with a key it makes unless ``--apikey`` names one, and the wrong-key
limit's test: the view's own ``failure_limit`` around a view doing nothing) and, on
PostgreSQL, a one-row query through psycopg's cursor against the same query through libpq's
``PQexecPrepared`` (psycopg's ``pq`` layer) on one connection: the best of ``--rounds`` rounds
of ``--count`` calls each.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure_clicks(app: Any, affiliates: int, products: int, batches: int,
                   batch_size: int) -> None:
    from affsrv.db.types import utcnow

    rng = random.Random(5)
    buffer = app.extensions["click_buffer"]
    with app.app_context():
        for n in range(batches):
            rows = [(rng.randrange(1, affiliates + 1), rng.randrange(1, products + 1),
                     f"https://blog{rng.randrange(20)}.example/post/{rng.randrange(20) * 7}",
                     "127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", utcnow())
                    for _ in range(batch_size)]
            started = time.process_time()
            buffer._write(rows)  # what the flushing thread does with a batch
            used = time.process_time() - started
            print(f"batch {n + 1}: {used / len(rows) * 1e6:.1f} us of CPU per click")


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


def _fastest(rounds: int, count: int, one_round: Any, backend: int | None = None
             ) -> tuple[float, float]:
    """The fastest of ``rounds`` calls of ``one_round`` (which makes ``count`` calls): this
    process's CPU per call in us, and the PostgreSQL server process ``backend``'s (0 without)."""
    best: tuple[float, float] | None = None
    for _ in range(rounds):
        client = time.process_time()
        server = _process_cpu(backend) if backend else 0.0
        one_round()
        spent = ((time.process_time() - client) / count * 1e6,
                 (_process_cpu(backend) - server) / count * 1e6 if backend else 0.0)
        best = spent if best is None or spent[0] < best[0] else best
    assert best is not None
    return best


def _repeated(count: int, call: Any) -> Any:
    def one_round() -> None:
        for _ in range(count):
            call()

    return one_round


def measure_ops(app: Any, affiliates: int, count: int, rounds: int) -> None:
    from affsrv.dataapi.services import data_op
    from affsrv.db.reads import run_read

    rng = random.Random(4)
    with app.test_request_context("/api", method="POST"):
        postgresql = run_read(lambda conn: conn.dialect.name) == "postgresql"
        backend = run_read(lambda conn: conn.exec_driver_sql(
            "SELECT pg_backend_pid()").scalar()) if postgresql else None
        for op in ("info", "commissions", "payments", "referrals"):
            data = {"op": op, "product": None}
            codes = [f"aff{rng.randrange(1, affiliates + 1)}" for _ in range(count)]
            for code in codes[:300]:  # warm up: directories, statements prepared
                data_op(code, data)

            def one_round(codes: list[str] = codes, data: dict[str, Any] = data) -> None:
                for code in codes:
                    data_op(code, data)

            client, server = _fastest(rounds, count, one_round, backend)
            print(f"{op}: {client:.1f} us of this process's CPU per call"
                  + (f", server {server:.1f} us" if backend else "")
                  + f" (fastest of {rounds} rounds of {count})", flush=True)


def measure_steps(app: Any, apikey: str, count: int, rounds: int) -> None:
    from affsrv.apikeys.services import is_valid_api_key
    from affsrv.db.reads import run_read
    from affsrv.ratelimits import failure_limit

    # The Data API view's own decorator around a view doing nothing: the limit tested (and
    # nothing counted, no failure being marked), as on every call before its key is looked at.
    limited = failure_limit("api_key_failures_per_address")(lambda: None)
    with app.test_request_context("/api", method="POST",
                                  environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        if not apikey:  # a key of its own (stays in the database, as the clicks do)
            from affsrv.apikeys.services import create_api_key

            apikey = create_api_key("bench/parts.py steps")[1]
        if not is_valid_api_key(apikey):
            raise SystemExit("steps: --apikey is not an active key of this database")
        for label, call in (("is_valid_api_key", lambda: is_valid_api_key(apikey)),
                            ("the wrong-key limit's test", limited)):
            spent = _fastest(rounds, count, _repeated(count, call))[0]
            print(f"{label}: {spent:.1f} us of CPU per call", flush=True)
        if run_read(lambda conn: conn.dialect.name) != "postgresql":
            return
        import psycopg

        url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.cursor()
            conn.pgconn.prepare(b"parts_one_row", b"SELECT 1, 'x'::text WHERE 1 = $1")
            for label, call in (
                    ("one row, psycopg's cursor",
                     lambda: cursor.execute("SELECT 1, 'x'::text WHERE 1 = %s", (1,)).fetchall()),
                    ("one row, PQexecPrepared",
                     lambda: conn.pgconn.exec_prepared(b"parts_one_row", [b"1"]))):
                spent = _fastest(rounds, count, _repeated(count, call))[0]
                print(f"{label}: {spent:.1f} us of this process's CPU per query", flush=True)


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


def measure_money(app: Any, affiliates: int, count: int) -> None:
    from affsrv.commissions.services import commission_totals
    from affsrv.dataapi.schemas import CommissionTotalsSchema
    from affsrv.db.reads import run_read

    rng = random.Random(6)
    schema = CommissionTotalsSchema()
    with app.app_context():
        # The rows as the op reads them: the amounts already written by the database
        # (money_text); what is timed is the answer's building from them.
        answers = [run_read(lambda conn: commission_totals(rng.randrange(1, affiliates + 1),
                                                           None, conn))
                   for _ in range(count)]
        per_answer = sum(2 * len(rows) for rows in answers) / count
        for _round in range(3):
            started = time.process_time()
            for rows in answers:
                schema.dump(rows)
            used = time.process_time() - started
            print(f"{per_answer:.1f} amounts per commissions answer: "
                  f"{used / count * 1e6:.1f} us of CPU per answer to build it from its rows")


def measure_drain(count: int) -> None:
    import io
    import sys

    from affsrv.request_body import drain_body

    def landing() -> dict[str, Any]:
        return {"REQUEST_METHOD": "GET", "PATH_INFO": "/r/aff1", "QUERY_STRING": "p=1",
                "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr}

    for _round in range(3):
        environs = [landing() for _ in range(count)]
        started = time.process_time()
        for environ in environs:
            drain_body(environ)
        used = time.process_time() - started
        print(f"drain_body on a landing link's GET: {used / count * 1e6:.2f} us of CPU per call")


def measure_top_affiliate(app: Any, products: int, clicks: int, count: int) -> None:
    from affsrv.affiliates.services import create_affiliate
    from affsrv.dataapi.services import data_op
    from affsrv.db.types import utcnow

    rng = random.Random(7)
    buffer = app.extensions["click_buffer"]
    with app.app_context():
        affiliate = create_affiliate(email=f"top{rng.randrange(10**9)}@example.com",
                                     fname="Top", lname="Affiliate")
        written = 0
        while written < clicks:  # through the click buffer's own write, 10,000 at a time
            batch = min(10_000, clicks - written)
            buffer._write([(affiliate.id, rng.randrange(1, products + 1),
                            f"https://blog{rng.randrange(20)}.example/", "127.0.0.1", "",
                            utcnow()) for _ in range(batch)])
            written += batch
        print(f"affiliate {affiliate.code}: {clicks:,} clicks written")
    with app.test_request_context():
        answer = data_op(affiliate.code, {"op": "referrals", "product": None})  # warm up
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(count):
            data_op(affiliate.code, {"op": "referrals", "product": None})
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rows = sum(len(item["referrers"]) for item in answer["data"].values())
    print(f"{count} referrals calls ({rows} rows each): {wall / count * 1000:.2f} ms, "
          f"{cpu / count * 1000:.2f} ms of this process's CPU per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["clicks", "query", "directory", "encode",
                                         "top-affiliate", "money", "drain", "ops", "steps"])
    parser.add_argument("--url", required=True, help="a database seeded by bench/run.py --keep")
    parser.add_argument("--affiliates", type=int, default=100_000, help="as seeded")
    parser.add_argument("--products", type=int, default=50, help="as seeded")
    parser.add_argument("--batches", type=int, default=8, help="clicks: batches to write")
    parser.add_argument("--batch-size", type=int, default=1000, help="clicks: clicks per batch")
    parser.add_argument("--count", type=int, default=3000,
                        help="query, encode, top-affiliate, money, drain, ops: queries, "
                             "answers or calls to time (ops: per round and op)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="ops, steps: rounds (the fastest kept)")
    parser.add_argument("--apikey", help="steps: a key of the database (default: one made)")
    parser.add_argument("--clicks", type=int, default=1_000_000,
                        help="top-affiliate: clicks of the new affiliate")
    parser.add_argument("--without-rollups", action="store_true",
                        help="clicks: with the reports' click rollups not written, to "
                             "measure their share of a click's write")
    args = parser.parse_args()
    if args.without_rollups:
        from affsrv.tracking import services as tracking

        tracking.roll_up_clicks = lambda *_args, **_kwargs: None  # a measurement, not a mode

    from affsrv import create_app

    app = create_app(overrides={"database": {"url": args.url},
                                "logs": {"dir": os.path.join(os.getcwd(), "logs")}})
    try:
        if args.part == "clicks":
            measure_clicks(app, args.affiliates, args.products, args.batches, args.batch_size)
        elif args.part == "query":
            measure_query(app, args.affiliates, args.count)
        elif args.part == "encode":
            measure_encode(app, args.affiliates, args.count)
        elif args.part == "money":
            measure_money(app, args.affiliates, args.count)
        elif args.part == "steps":
            measure_steps(app, args.apikey or "", args.count, args.rounds)
        elif args.part == "ops":
            measure_ops(app, args.affiliates, args.count, args.rounds)
        elif args.part == "drain":
            measure_drain(args.count * 10)
        elif args.part == "top-affiliate":
            measure_top_affiliate(app, args.products, args.clicks, args.count)
        else:
            measure_directory(app)
    finally:
        app.extensions["click_buffer"].stop()


if __name__ == "__main__":
    main()
