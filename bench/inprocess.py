"""The two hot paths' CPU per request in one process, without a server or a load generator:
each request is one call of the WSGI app with a prepared environ, so the figure is the app's
own work (Werkzeug, Flask, affsrv, the driver), and steady enough on a loaded machine to
compare a change (CPU time, not wall time; or instruction counts under callgrind).

    python bench/inprocess.py --db sqlite                     # every path, CPU us/request
    python bench/inprocess.py --db sqlite --only commissions --profile    # cProfile's top
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python bench/inprocess.py --db sqlite --only landing --requests 500 --no-compare

Beside each affsrv path it runs its baseline from the benchmark (bench/bare_app.py: the bare
redirect for the landing link, and for each Data API op its floor from bench/floor.py) in the
same process, alternating rounds, so the ratio is the one ``bench/run.py --floor`` aims at, minus
the server and the network. The database is seeded once like bench/run.py's (``--keep-db`` to
reuse it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bare_app import create_bare_app  # noqa: E402
from floor import LADDER, LANDING_LADDER  # noqa: E402
from run import Scale, seed  # noqa: E402

# name -> (affsrv's method, path, body's data or None, the baseline's path)
PATHS = {
    "landing": ("GET", "/r/aff{aff}", None, "/r/aff{aff}"),
    "info": ("POST", "/api", {"op": "info"}, "/floor/info"),
    "commissions": ("POST", "/api", {"op": "commissions"}, "/floor/commissions"),
    "commissions-product": ("POST", "/api", {"op": "commissions", "product": 3},
                            "/floor/commissions-product"),
    "payments": ("POST", "/api", {"op": "payments"}, "/floor/payments"),
    "referrals": ("POST", "/api", {"op": "referrals"}, "/floor/referrals"),
}


def environ_maker(method: str, path: str, body: bytes | None) -> Callable[[], dict[str, Any]]:
    base: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
        "QUERY_STRING": "p=3" if method == "GET" else "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_CONNECTION": "close",
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    if method == "GET":
        base["HTTP_REFERER"] = "https://blog.example/post"
    if body is not None:
        base["CONTENT_TYPE"] = "application/json"
        base["CONTENT_LENGTH"] = str(len(body))

    def make() -> dict[str, Any]:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body or b"")
        return environ

    return make


def call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(s: str, _headers: Any, _exc: Any = None) -> Any:
        status.append(s)
        return lambda _data: None

    result = app(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status[0], data


def requests_for(name: str, apikey: str, affiliates: int, count: int, baseline: bool,
                 step: str = "") -> list[Callable[[], dict[str, Any]]]:
    """``count`` requests for path ``name``: affsrv's, its baseline's, or (``step``) those of
    that step of its required floor (bench/floor.py's ladder, on the baseline's app)."""
    method, path, data, base_path = PATHS[name]
    if step:
        base_path = (f"/ladder/{step}/r/aff{{aff}}" if name == "landing"
                     else f"/ladder/{step}/{name}")
    makers = []
    for i in range(count):
        aff = 1 + (i * 7919) % affiliates
        body = None
        if data is not None:
            body = json.dumps({"apikey": apikey, "affiliate": f"aff{aff}",
                               "data": data}).encode()
        makers.append(environ_maker(method, (base_path if baseline else path).format(aff=aff),
                                    body))
    return makers


def check(name: str, status: str, data: bytes) -> None:
    ok = status.startswith("302") if name == "landing" else (
        status.startswith("200") and b'"status":"ok"' in data)
    if not ok:
        raise SystemExit(f"FAILED: {name} answered {status}: {data[:300]!r}")


def cpu_per_request(app: Any, name: str, makers: list[Callable[[], dict[str, Any]]]) -> float:
    environs = [make() for make in makers]
    started = time.process_time()
    for environ in environs:
        status, data = call(app, environ)
    elapsed = time.process_time() - started
    check(name, status, data)
    return elapsed / len(environs) * 1e6


def print_ladder(db: str, rows: list[tuple[str, float, float]],
                 ladder_rows: list[tuple[str, str, float]]) -> None:
    """Each path's required floor, step by step: CPU per request, what the step adds, and the
    ratio its first step (the floor, or the bare redirect) has to it; then affsrv's own."""
    affsrv = {name: a for name, a, _ in rows}
    print(f"\n| path ({db}) | step of the required floor | CPU us/request | added us "
          "| ratio (first step/this) |")
    print("|---|---|---:|---:|---:|")
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for name, step, cpu in ladder_rows:
        base = first.setdefault(name, cpu)
        added = cpu - last.get(name, cpu)
        last[name] = cpu
        print(f"| {name} | {step} | {cpu:.0f} | {added:+.0f} | {base / cpu:.2f} |")
    for name, cpu in last.items():
        print(f"| {name} | affsrv | {affsrv[name]:.0f} | {affsrv[name] - cpu:+.0f} "
              f"| {first[name] / affsrv[name]:.2f} |")
    # The ceiling: the baseline's CPU (bench/bare_app.py, without the ladder app's extensions'
    # hooks) plus what the required steps add, against the baseline alone.
    print(f"\n| path ({db}) | baseline CPU us | required steps add us | ceiling "
          "(baseline/(baseline+added)) | affsrv's ratio (baseline/affsrv) |")
    print("|---|---:|---:|---:|---:|")
    for name, base, bare in rows:
        if name in last:
            added = last[name] - first[name]
            print(f"| {name} | {bare:.0f} | {added:.0f} | {bare / (bare + added):.2f} "
                  f"| {bare / base:.2f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--db-url", default=None, help="a database seeded before (with --keep-db)")
    p.add_argument("--apikey", default=None, help="its API key")
    p.add_argument("--keep-db", action="store_true", help="print the URL and key; keep it")
    p.add_argument("--affiliates", type=int, default=1000)
    p.add_argument("--commissions", type=int, default=20000)
    p.add_argument("--clicks", type=int, default=50000)
    p.add_argument("--only", action="append", choices=list(PATHS))
    p.add_argument("--requests", type=int, default=2000, help="per round and path")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="cProfile affsrv's requests instead")
    p.add_argument("--sort", default="tottime", help="cProfile sort key")
    p.add_argument("--no-compare", action="store_true", help="affsrv only (for callgrind)")
    p.add_argument("--ladder", action="store_true",
                   help="also each step of the required floor (bench/floor.py), in the same "
                        "alternating rounds, and the ceiling it gives")
    p.add_argument("--fastest", action="store_true",
                   help="each figure the fastest round's, not the median: on a machine shared "
                        "with other jobs, their interference only ever adds CPU time")
    args = p.parse_args(argv)

    def pick(runs: list[float]) -> float:
        return min(runs) if args.fastest else sorted(runs)[len(runs) // 2]

    from affsrv import create_app

    workdir = Path(tempfile.mkdtemp(prefix="affsrv-inprocess-"))
    drop = None
    url, apikey = args.db_url, args.apikey
    if url is None:
        scale = Scale(args.affiliates, 50, args.commissions, 2 * args.affiliates, args.clicks)
        if args.db == "sqlite":
            url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            from run import _postgres_database

            url, drop = _postgres_database(argparse.Namespace(
                pg_url=args.pg_url, pg_database=None, reuse=False))
        print(f"seeding {url} ...", file=sys.stderr)
        apikey = seed(url, scale, workdir)
        if args.keep_db:
            print(f"--db-url {url} --apikey {apikey} --affiliates {args.affiliates}",
                  file=sys.stderr)
            drop = None
    try:
        app = create_app(overrides={"database": {"url": url},
                                    "logs": {"dir": str(workdir / "logs")}})
        bare = None if args.no_compare else create_bare_app(url)
        names = args.only or list(PATHS)
        rows = []
        ladder_rows: list[tuple[str, str, float]] = []
        for name in names:
            ours = requests_for(name, apikey, args.affiliates, args.requests, False)
            theirs = requests_for(name, apikey, args.affiliates, args.requests, True)
            steps = ((LANDING_LADDER if name == "landing" else LADDER)
                     if args.ladder and bare is not None else ())
            stepped = {step: requests_for(name, apikey, args.affiliates, args.requests, True,
                                          step) for step in steps}
            cpu_per_request(app, name, ours[:200])  # warm: caches, connections, directories
            if bare is not None:
                cpu_per_request(bare, name, theirs[:200])
            for makers in stepped.values():
                cpu_per_request(bare, name, makers[:200])
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                cpu_per_request(app, name, ours)
                profile.disable()
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(40)
                print(f"## {name}\n{out.getvalue()}")
                continue
            a_runs, b_runs = [], []
            step_runs: dict[str, list[float]] = {step: [] for step in stepped}
            for _ in range(args.rounds):
                a_runs.append(cpu_per_request(app, name, ours))
                if bare is not None:
                    b_runs.append(cpu_per_request(bare, name, theirs))
                for step, makers in stepped.items():
                    step_runs[step].append(cpu_per_request(bare, name, makers))
            a = pick(a_runs)
            b = pick(b_runs) if b_runs else float("nan")
            rows.append((name, a, b))
            ladder_rows += [(name, step, pick(runs))
                            for step, runs in step_runs.items()]
        if rows:
            print(f"| path ({args.db}) | affsrv CPU us/request | baseline CPU us/request "
                  "| ratio (baseline/affsrv) |")
            print("|---|---:|---:|---:|")
            for name, a, b in rows:
                print(f"| {name} | {a:.0f} | {b:.0f} | {b / a:.2f} |")
        if ladder_rows:
            print_ladder(args.db, rows, ladder_rows)
        app.extensions["click_buffer"].stop()
    finally:
        if drop is not None:
            drop()
        if not args.keep_db:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
