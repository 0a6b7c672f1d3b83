"""affsrv benchmark: seed a database, run affsrv and a bare Flask app under gunicorn side by side,
load both with wrk on loopback and print requests/s, p50, p99 and the ratio to bare Flask.

    python bench/run.py --db both            # the default scale: 100k / 1M / 5M
    python bench/run.py --db sqlite --affiliates 1000 --commissions 10000 --clicks 50000

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``) and affsrv installed
(``pip install -e '.[test]'``). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_INSTALL = "apt-get install -y wrk"
LANDING_TARGET = 0.80  # of bare Flask's redirect throughput
FLOOR_SHARE = 0.90  # a Data API op's ratio to the echo, as a share of its floor's (--floor)
DEPTH_TARGET = 0.95  # an op's ratio for the deepest affiliate, as a share of the shallowest's
DEPTHS = (10, 10_000, 100_000)  # commissions (and payments) of the depth rows' affiliates
DEEP_PRODUCTS = 10  # the products the depth rows' affiliates sell (all: their answers' size)
REFERERS = [f"https://blog{i}.example/post/{i * 7}" for i in range(20)]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36"]
METHODS = ["paypal", "wire", "check"]


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------- seeding


@dataclass
class Scale:
    affiliates: int
    products: int
    commissions: int
    payments: int
    clicks: int
    seed: int = 1
    # One more affiliate per depth (ids affiliates+1, ...), with that many commissions and
    # payments of its own: the depth rows measure the ops for it alone.
    depths: tuple[int, ...] = ()

    def deep_affiliate(self, depth: int) -> int:
        return self.affiliates + 1 + self.depths.index(depth)


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    start = 0
    while start < total:
        yield start, min(size, total - start)
        start += size


class Seeder:
    """Rows generated in Python, written with the fastest plain tool of each database."""

    def __init__(self, scale: Scale, dialect: str) -> None:
        self.scale = scale
        self.dialect = dialect
        self.rng = random.Random(scale.seed)
        self.base = datetime(2024, 1, 1, tzinfo=UTC)
        # A pool of timestamps over two years, formatted once (5M datetime formats are slow).
        self.times = [self._time(self.base + timedelta(seconds=self.rng.randrange(63_072_000)))
                      for _ in range(4096)]

    def _time(self, value: datetime) -> str:
        if self.dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME storage format (naive UTC)
            return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value.strftime("%Y-%m-%d %H:%M:%S.%f+00")

    def _money(self, cents: int) -> Any:
        # FixedDecimal: integer cents on SQLite, NUMERIC(14,2) text on PostgreSQL.
        return cents if self.dialect == "sqlite" else f"{cents // 100}.{cents % 100:02d}"

    def _bool(self, value: bool) -> Any:
        return int(value) if self.dialect == "sqlite" else value

    def affiliates(self, start: int, count: int) -> list[tuple]:
        rng, t = self.rng, self.times
        return [
            (i, f"aff{i}", "Ann", f"Lee{i}", f"aff{i}@example.com", None,
             f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", None, "paypal:aff@example.com",
             "", self._bool(True), self._bool(True), None, "{}", t[rng.randrange(4096)])
            for i in range(start + 1, start + count + 1)
        ]

    def add_products(self) -> None:
        """The few products, through the model (so every column gets its default)."""
        from decimal import Decimal

        from affsrv.extensions import db
        from affsrv.products.models import Product

        for i in range(1, self.scale.products + 1):
            db.session.add(Product(
                id=i, name=f"Product {i}", landing_url=f"https://shop.example/p/{i}",
                enabled=True, sku=f"SKU{i}", commission_rate=Decimal(10 + i % 30),
                created_at=self.base + timedelta(days=i)))
        db.session.commit()

    def commissions(self, start: int, count: int) -> list[tuple]:
        rng, t, naff, nprod = self.rng, self.times, self.scale.affiliates, self.scale.products
        statuses = ["approved"] * 16 + ["pending", "pending", "rejected", "reversed"]
        rows = []
        for i in range(start, start + count):
            sale = rng.randrange(500, 50_000)
            created = t[rng.randrange(4096)]
            rows.append((
                rng.randrange(1, naff + 1), rng.randrange(1, nprod + 1), "sale",
                statuses[rng.randrange(20)], self._money(sale), self._money(sale // 5), "USD",
                f"o{i}", "api", "203.0.113.9", "", created, created,
            ))
        return rows

    def payments(self, start: int, count: int) -> list[tuple]:
        rng, t, naff = self.rng, self.times, self.scale.affiliates
        return [
            (rng.randrange(1, naff + 1), METHODS[rng.randrange(3)],
             self._money(rng.randrange(1000, 100_000)), "USD", f"p{i}", t[rng.randrange(4096)])
            for i in range(start, start + count)
        ]

    def _deep(self, start: int, count: int) -> Iterator[tuple[int, int]]:
        """(row index, deep affiliate id) for rows ``start`` .. ``start + count`` of the deep
        affiliates' rows, which come affiliate after affiliate, ``depth`` rows each."""
        ends, total = [], 0
        for depth in self.scale.depths:
            total += depth
            ends.append(total)
        owner = 0
        for i in range(start, start + count):
            while i >= ends[owner]:
                owner += 1
            yield i, self.scale.affiliates + 1 + owner

    def deep_affiliates(self, start: int, count: int) -> list[tuple]:
        return self.affiliates(self.scale.affiliates + start, count)

    def deep_commissions(self, start: int, count: int) -> list[tuple]:
        """Every deep affiliate's commissions go to the same products, in turn (and the first
        of each product is approved), so each answers the same number of products whatever
        its depth: the depth rows then differ in history only, not in the answer's size."""
        rng, t = self.rng, self.times
        products = min(DEEP_PRODUCTS, self.scale.products)
        statuses = ["approved"] * 16 + ["pending", "pending", "rejected", "reversed"]
        rows = []
        for i, affiliate in self._deep(start, count):
            sale = rng.randrange(500, 50_000)
            created = t[rng.randrange(4096)]
            rows.append((
                affiliate, 1 + i % products, "sale", statuses[i % len(statuses)],
                self._money(sale), self._money(sale // 5), "USD", f"deep{i}", "api",
                "203.0.113.9", "", created, created,
            ))
        return rows

    def deep_payments(self, start: int, count: int) -> list[tuple]:
        rng, t = self.rng, self.times  # every method in turn, as products above
        return [
            (affiliate, METHODS[i % len(METHODS)], self._money(rng.randrange(1000, 100_000)),
             "USD", f"deep{i}", t[rng.randrange(4096)])
            for i, affiliate in self._deep(start, count)
        ]

    def referral_links(self, start: int, count: int) -> list[tuple]:
        """The referring pages the clicks name (ids 1 to len(REFERERS))."""
        import hashlib

        return [(i + 1, hashlib.sha256(url.encode()).digest(), url, self.times[0])
                for i, url in enumerate(REFERERS[start:start + count], start)]

    def clicks(self, start: int, count: int) -> list[tuple]:
        rng, t, naff, nprod = self.rng, self.times, self.scale.affiliates, self.scale.products
        rows = []
        for _ in range(count):
            pid = rng.randrange(nprod + 3)
            rows.append((
                rng.randrange(1, naff + 1), pid if pid <= nprod and pid else None,
                rng.randrange(1, len(REFERERS) + 1), f"198.51.100.{rng.randrange(256)}",
                AGENTS[rng.randrange(3)], t[rng.randrange(4096)],
            ))
        return rows


TABLES = {
    "affiliates": ("id, code, fname, lname, email, password_hash, ip, commtier, payinfo, notes, "
                   "approved, enabled, clickbank_nickname, extra, created_at"),
    "commissions": ("affiliate_id, product_id, kind, status, sale_total, commission_total, "
                    "currency, order_ref, source, ip, notes, created_at, updated_at"),
    "payments": "affiliate_id, method, amount, currency, reference, created_at",
    "referral_links": "id, digest, url, created_at",
    "clicks": "affiliate_id, product_id, link_id, ip, user_agent, created_at",
}
# Secondary indexes of the big tables are dropped for the load and rebuilt from the models
# afterwards (much faster than maintaining them row by row).
BIG_TABLES = ("commissions", "payments", "clicks")


def seed(url: str, scale: Scale, workdir: Path) -> str:
    """Create the schema as an operator does (``affsrv db upgrade``), load the rows, index,
    ANALYZE; return a fresh API key."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect, text

    from affsrv import create_app
    from affsrv.apikeys.services import create_api_key
    from affsrv.extensions import db

    app = create_app(overrides={"database": {"url": url}, "logs": {"dir": str(workdir / "logs")}})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        engine = db.engine
        dialect = engine.dialect.name
        seeder = Seeder(scale, dialect)
        inspector = inspect(engine)
        with engine.begin() as conn:
            for table in BIG_TABLES:  # every plain index the migration made; rebuilt below
                for ix in inspector.get_indexes(table):
                    if not ix.get("unique"):
                        conn.execute(text(f'DROP INDEX IF EXISTS "{ix["name"]}"'))
        seeder.add_products()
        if dialect == "sqlite":  # PostgreSQL's load skips them (session_replication_role)
            set_totals_triggers(engine, on=False)
        raw = engine.raw_connection()
        try:
            loader = _load_sqlite if dialect == "sqlite" else _load_postgres
            loader(raw.driver_connection, seeder, scale)
        finally:
            raw.close()
        if dialect == "sqlite":
            set_totals_triggers(engine, on=True)
        started = time.monotonic()
        count_seeded_clicks(engine)
        log(f"  click counts built in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        count_seeded_totals(engine)
        log(f"  commission and payment totals built in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        ensure_model_indexes(engine)
        log(f"  indexes built in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        if dialect == "sqlite":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        log(f"  analyzed in {time.monotonic() - started:.1f} s")
        key = create_api_key("benchmark")[1]
        db.session.remove()
        engine.dispose()
    return key


def count_seeded_clicks(engine: Any) -> None:
    """Fill ``click_counts`` from the seeded clicks as affsrv keeps it, in random order, as
    traffic grows it (``recount_clicks``)."""
    from affsrv.tracking.services import recount_clicks

    with engine.begin() as conn:
        recount_clicks(conn, shuffled=True)


def count_seeded_totals(engine: Any) -> None:
    """Fill ``commission_totals`` and ``payment_totals`` from the seeded rows, as
    ``affsrv totals recount`` does (the load bypassed the triggers that keep them)."""
    from affsrv.commissions.models import CommissionTotal
    from affsrv.payments.models import PaymentTotal
    from affsrv.totals.services import KEPT_TOTALS, recount

    with engine.begin() as conn:
        for kept in KEPT_TOTALS:
            if kept.table in (CommissionTotal.__table__, PaymentTotal.__table__):
                recount(conn, kept)


def set_totals_triggers(engine: Any, on: bool) -> None:
    """Drop (for a bulk load) or make again SQLite's triggers keeping the totals, as affsrv
    makes them."""
    from sqlalchemy import text

    from affsrv.commissions.triggers import TRIGGERS as COMMISSION_TRIGGERS
    from affsrv.payments.triggers import TRIGGERS as PAYMENT_TRIGGERS

    with engine.begin() as conn:
        for statement in [*COMMISSION_TRIGGERS["sqlite"], *PAYMENT_TRIGGERS["sqlite"]]:
            if on:
                conn.execute(text(statement))
            else:
                name = statement.split()[5]  # CREATE TRIGGER IF NOT EXISTS <name> ...
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def ensure_model_indexes(engine: Any) -> None:
    """Create the models' indexes that the database lacks (the migrations may lag behind the
    models until they are regenerated), and tables likewise."""
    from sqlalchemy import inspect

    from affsrv.extensions import db

    with engine.begin() as conn:
        db.metadata.create_all(conn, checkfirst=True)
        inspector = inspect(conn)
        for table in db.metadata.sorted_tables:
            have = {ix["name"] for ix in inspector.get_indexes(table.name)}
            for ix in table.indexes:
                if ix.name not in have:
                    ix.create(conn)


def _plan(scale: Scale) -> list[tuple[str, int, Any]]:
    deep = sum(scale.depths)
    return [
        ("affiliates", scale.affiliates, "affiliates"),
        ("commissions", scale.commissions, "commissions"),
        ("payments", scale.payments, "payments"),
        ("referral_links", len(REFERERS), "referral_links"),
        ("clicks", scale.clicks, "clicks"),
        ("affiliates", len(scale.depths), "deep_affiliates"),
        ("commissions", deep, "deep_commissions"),
        ("payments", deep, "deep_payments"),
    ]


def _load_sqlite(conn: Any, seeder: Seeder, scale: Scale) -> None:
    # For the load only (affsrv's own connections keep their settings): no fsync, and no
    # foreign-key check per row (the generated rows only name ids that exist).
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")
    cur = conn.cursor()

    def insert(table: str, rows: list[tuple]) -> None:
        cols = TABLES[table]
        marks = ", ".join("?" * (cols.count(",") + 1))
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

    for table, total, method in _plan(scale):
        started = time.monotonic()
        for start, count in _chunks(total, 200_000):
            insert(table, getattr(seeder, method)(start, count))
            conn.commit()
        log(f"  {method}: {total:,} rows in {time.monotonic() - started:.1f} s")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")


def _load_postgres(conn: Any, seeder: Seeder, scale: Scale) -> None:
    with conn.cursor() as cur:
        # Skip the per-row foreign-key triggers during the load (the generated rows only name
        # ids that exist); needs a superuser, else the load just runs slower.
        try:
            cur.execute("SET session_replication_role = replica")
        except Exception:  # noqa: BLE001 - not a superuser
            conn.rollback()

        def copy(table: str, rows: list[tuple]) -> None:
            with cur.copy(f"COPY {table} ({TABLES[table]}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)

        for table, total, method in _plan(scale):
            started = time.monotonic()
            for start, count in _chunks(total, 200_000):
                copy(table, getattr(seeder, method)(start, count))
                conn.commit()
            log(f"  {method}: {total:,} rows in {time.monotonic() - started:.1f} s")
        for table in ("affiliates", "products", "referral_links"):  # ids were given explicitly
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        conn.commit()


# --------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    logfile: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_server(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in argv]
    logfile = workdir / f"{name}.log"
    handle = logfile.open("wb")
    proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return Server(name, proc, port, logfile)


def wait_ready(server: Server, path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_NoRedirect)
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.name} exited early; its output:\n"
                             + server.logfile.read_text(errors="replace")[-3000:])
        try:
            opener.open(server.url + path, timeout=2)
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 302:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer within {timeout:.0f} s; see {server.logfile}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_json(url: str, body: dict[str, Any], path: str = "/api") -> tuple[int, Any]:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


# --------------------------------------------------------------------------------- wrk

LUA = r"""
-- generated by bench/run.py
local kind, op, product_filter = "%(kind)s", "%(op)s", %(product_filter)s
local n_aff, n_prod, apikey = %(affiliates)d, %(products)d, "%(apikey)s"
local fixed = %(fixed)d  -- a depth row's affiliate (0: one drawn at random per request)
local referers = {%(referers)s}
local close = %(close)s  -- one connection per request, as browsers following a link and most
                         -- API clients do (and as gunicorn's sync workers serve anyway)
local threads, counter = {}, 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + tid * 7919 + %(salt)d)
  bad, checked, sample = 0, 0, ""
end

function request()
  local code = "aff" .. math.random(1, n_aff)
  if fixed > 0 then code = "aff" .. fixed end
  if kind == "redirect" then
    local headers = {["Referer"] = referers[math.random(1, #referers)]}
    if close then headers["Connection"] = "close" end
    return wrk.format("GET", "%(redirect_path)s" .. code .. "?p=" .. math.random(1, n_prod),
                      headers)
  end
  local extra = ""
  if product_filter then extra = ',"product":' .. math.random(1, n_prod) end
  local body = '{"apikey":"' .. apikey .. '","affiliate":"' .. code .. '","data":{"op":"'
               .. op .. '"' .. extra .. '}}'
  local headers = {["Content-Type"] = "application/json"}
  if close then headers["Connection"] = "close" end
  return wrk.format("POST", "%(path)s", headers, body)
end

function response(status, headers, body)
  checked = checked + 1
  local ok
  if kind == "redirect" then
    ok = status == 302 and headers["Set-Cookie"] ~= nil
  else
    ok = status == 200 and string.find(body, '"status":"ok"', 1, true) ~= nil
  end
  if not ok then
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local b, c, s = 0, 0, ""
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    c = c + t:get("checked")
    if s == "" then s = t:get("sample") end
  end
  io.write(string.format("CHECK bad=%%d checked=%%d sample=%%s\n", b, c, s))
end
"""


@dataclass
class Target:
    name: str
    kind: str  # redirect | api
    subject: bool  # measured against a baseline (True), or a baseline itself
    op: str = ""
    product_filter: bool = False
    key: str = ""  # how ``--only`` names a subject
    floor: str = ""  # a floor (bench/floor.py) the bare app serves, not affsrv
    depth: int = 0  # a depth row: the op for the affiliate with this many commissions
    affiliate: int = 0  # that affiliate's id (0: a random seeded affiliate per request)
    ladder: str = ""  # a step of the required floor (bench/floor.py) the bare app serves

    @property
    def path(self) -> str:
        if self.ladder:
            return f"/ladder/{self.ladder}"
        return f"/floor/{self.floor}" if self.floor else "/api"

    @property
    def redirect_path(self) -> str:
        """A redirect target's path before the affiliate's code."""
        return f"/ladder/{self.ladder}/r/" if self.ladder else "/r/"

    @property
    def on_affsrv(self) -> bool:
        return self.subject and not self.floor and not self.ladder


@dataclass
class Result:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # to the paired bare run, per round
    app_cpu: list[float] = field(default_factory=list)  # us of the app's processes per request
    db_cpu: list[float] = field(default_factory=list)  # us of PostgreSQL's processes per request


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, script: Path, duration: float, connections: int, threads: int
            ) -> dict[str, float]:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
            "--latency", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise SystemExit(f"wrk failed ({out.returncode}):\n{text}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    check = re.search(r"CHECK bad=(\d+) checked=(\d+) sample=(.*)", text)
    if not (rps and p50 and p99 and check):
        raise SystemExit(f"cannot read wrk's output:\n{text}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    bad = int(check.group(1)) + (int(non2xx.group(1)) if non2xx else 0)
    if bad or int(check.group(2)) == 0:
        raise SystemExit(f"FAILED: {bad} wrong answers of {check.group(2)} checked "
                         f"(first: {check.group(3)!r}) from {url} with {script.name}:\n{text}")
    timeouts = int(errors.group(4)) if errors else 0
    if timeouts:
        raise SystemExit(f"FAILED: {timeouts} timeouts from {url} with {script.name}:\n{text}")
    return {"rps": float(rps.group(1)), "p50": _ms(p50.group(1)), "p99": _ms(p99.group(1))}


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (a gunicorn master, its workers, the notification worker)."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat is not None:
            children.setdefault(int(stat[1]), []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def postgres_processes() -> list[int]:
    pids = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/comm") as handle:
                if handle.read().strip() == "postgres":
                    pids.append(pid)
        except OSError:
            pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    for pid in pids:
        stat = _proc_stat(pid)
        if stat is not None:
            total += int(stat[11]) + int(stat[12])
    return total / _TICKS


def settings_env(assignments: list[str]) -> dict[str, str]:
    """``--set section.key=value`` options as affsrv's environment variables, checked by
    affsrv's own configuration loader (an unknown key or a wrong type stops the run)."""
    from affsrv.config import ENV_PREFIX, ConfigError, load_settings

    env: dict[str, str] = {}
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        section, dot, key = name.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise SystemExit(f"--set {assignment!r}: expected section.key=value")
        if section == "database" or name.strip() == "logs.dir":
            raise SystemExit(f"--set {assignment!r}: the benchmark chooses the database and logs")
        env[f"{ENV_PREFIX}{section}_{key}".upper()] = value
    try:
        load_settings(None, environ=env)
    except ConfigError as exc:
        raise SystemExit(f"--set: {exc}") from None
    return env


def click_flush_seconds(env: dict[str, str]) -> float:
    """How often affsrv, as the benchmark runs it, writes landing clicks."""
    from affsrv.config import load_settings

    return load_settings(None, environ=env)["tracking"]["click_flush_ms"] / 1000


def measured_run(server: Server, script: Path, duration: float, connections: int,
                 threads: int, db: str, settle: float) -> dict[str, float]:
    """One wrk run, plus the CPU the server's processes (and PostgreSQL's, on PostgreSQL)
    spent per request: the machine's two cores are shared, so this shows where it goes."""
    app_pids = process_tree(server.proc.pid)
    db_pids = postgres_processes() if db == "postgresql" else []
    app_before, db_before = cpu_seconds(app_pids), cpu_seconds(db_pids)
    figures = run_wrk(server.url, script, duration, connections, threads)
    time.sleep(settle)  # the click buffer's last batch is written, and counted, before the next run
    requests = max(1.0, figures["rps"] * max(1, round(duration)))
    figures["app_cpu"] = (cpu_seconds(app_pids) - app_before) / requests * 1e6
    figures["db_cpu"] = (cpu_seconds(db_pids) - db_before) / requests * 1e6
    return figures


def lua_script(workdir: Path, target: Target, scale: Scale, apikey: str, salt: int,
               keepalive: bool = False) -> Path:
    path = workdir / f"{re.sub(r'[^a-z0-9]+', '_', target.name.lower()).strip('_')}.lua"
    path.write_text(LUA % {
        "kind": target.kind, "op": target.op, "path": target.path,
        "redirect_path": target.redirect_path,
        "product_filter": "true" if target.product_filter else "false",
        "affiliates": scale.affiliates, "products": scale.products, "apikey": apikey,
        "referers": ", ".join(f'"{r}"' for r in REFERERS), "salt": salt,
        "close": "false" if keepalive else "true", "fixed": target.affiliate,
    })
    return path


# --------------------------------------------------------------------------------- one database

BARE_REDIRECT = Target("bare Flask redirect", "redirect", False)
BARE_ECHO = Target("bare Flask JSON echo", "api", False, op="info")
SUBJECTS = [
    Target("landing link /r/<code>", "redirect", True, key="landing"),
    Target("Data API info", "api", True, op="info", key="info"),
    Target("Data API commissions", "api", True, op="commissions", key="commissions"),
    Target("Data API commissions (product)", "api", True, op="commissions", product_filter=True,
           key="commissions-product"),
    Target("Data API payments", "api", True, op="payments", key="payments"),
    Target("Data API referrals", "api", True, op="referrals", key="referrals"),
]
SUBJECT_KEYS = [t.key for t in SUBJECTS]

# --floor: the bare echo plus what every Data API call must do (bench/floor.py), each against
# the echo like affsrv's ops.
FLOOR_NAMES = {
    "roundtrip": "floor: echo + one database round trip (SELECT 1)",
    "schema": "floor: echo + the call's schema load",
    "info": "floor: echo + schema load + the info query",
    "commissions": "floor: echo + schema load + the commissions query",
    "commissions-product": "floor: echo + schema load + the commissions (product) query",
    "payments": "floor: echo + schema load + the payments query",
    "referrals": "floor: echo + schema load + the referrals query",
}

# --floor also measures the required floor (bench/floor.py's ladder): the op's floor plus, one
# step at a time, what affsrv must do beyond it; and the landing link's, from the bare redirect.
LADDER_NAMES = {
    "floor": "required floor: the op's floor",
    "body": "required floor: + body read within the size limit, checked and drained",
    "key": "required floor: + API key check",
    "limit": "required floor: + wrong-key failure limit, tested first",
    "directory": "required floor: + affiliate and product from the directory",
    "answer": "required floor: + the answer built by affsrv's service",
}
LANDING_LADDER_NAMES = {
    "redirect": "required landing: the bare redirect",
    "lookup": "required landing: + affiliate lookup and cookie",
    "click": "required landing: + the click recorded (ClickBuffer, batched write)",
}


def ladder_targets(subjects: list[Target]) -> list[Target]:
    """The required floor's steps: every step for one Data API op among ``subjects``
    (``commissions`` when it is there, else the first), the first and last (its floor, its
    required floor) for the others; and the landing link's steps when it is among them."""
    targets = []
    if any(t.kind == "redirect" and t.subject and not t.ladder for t in subjects):
        targets += [Target(name, "redirect", True, key="landing", ladder=step)
                    for step, name in LANDING_LADDER_NAMES.items()]
    ops = [t for t in subjects if t.kind == "api" and t.subject and not t.depth
           and not t.floor and not t.ladder]
    full = next((t for t in ops if t.key == "commissions"), ops[0] if ops else None)
    for like in ops:
        steps = list(LADDER_NAMES) if like is full else ["floor", "answer"]
        targets += [Target(f"{LADDER_NAMES[step]}, {like.key}", "api", True, op=like.op,
                           product_filter=like.product_filter, key=like.key,
                           ladder=f"{step}/{like.key}")
                    for step in steps]
    return targets


# The ops whose cost could grow with an affiliate's history, measured per depth.
DEPTH_OPS = {"commissions": "commissions", "commissions-product": "commissions",
             "payments": "payments"}


def depth_targets(subjects: list[Target], scale: Scale) -> list[Target]:
    """For each op among ``subjects`` that reads an affiliate's totals, one row per depth:
    the op for the seeded affiliate with that many commissions and payments (depth order)."""
    targets = []
    for target in subjects:
        if target.key in DEPTH_OPS:
            for depth in scale.depths:
                targets.append(Target(
                    f"{target.name}, affiliate with {depth:,} {DEPTH_OPS[target.key]}", "api",
                    True, op=target.op, product_filter=target.product_filter, key=target.key,
                    depth=depth, affiliate=scale.deep_affiliate(depth)))
    return targets


def floor_targets(subjects: list[Target]) -> list[Target]:
    """The floors of the Data API ops among ``subjects``, after the round trip and the schema
    load alone. Each sends the body of its op (the round trip and the schema load: the first
    op's)."""
    ops = {t.key: t for t in subjects if t.kind == "api" and not t.depth}
    if not ops:
        return []
    floors = []
    for name in ("roundtrip", "schema", *ops):
        like = ops.get(name, next(iter(ops.values())))
        floors.append(Target(FLOOR_NAMES[name], "api", True, op=like.op,
                             product_filter=like.product_filter, floor=name))
    return floors


def check_answers(url: str, apikey: str, scale: Scale, targets: list[Target] = SUBJECTS[1:]
                  ) -> None:
    """Every op (or floor) answers ``"status": "ok"`` with data, before any load."""
    rng = random.Random(7)
    for target in targets:
        for _ in range(5):
            affiliate = target.affiliate or rng.randrange(1, scale.affiliates + 1)
            body: dict[str, Any] = {"apikey": apikey, "affiliate": f"aff{affiliate}",
                                    "data": {"op": target.op}}
            if target.product_filter:
                body["data"]["product"] = rng.randrange(1, scale.products + 1)
            status, answer = post_json(url, body, target.path)
            if status != 200 or not isinstance(answer, dict) or answer.get("status") != "ok":
                raise SystemExit(f"FAILED: {target.name} answered {status}: {answer}")


def bench_database(db: str, args: argparse.Namespace, scale: Scale, workdir: Path
                   ) -> tuple[str, dict[str, Result], float]:
    work = workdir / db
    work.mkdir(parents=True, exist_ok=True)
    drop = None
    if db == "sqlite":
        path = Path(args.sqlite_path) if args.sqlite_path else work / "bench.db"
        url = f"sqlite:///{path}"
    else:
        url, drop = _postgres_database(args)
    seed_seconds = 0.0
    servers: list[Server] = []
    try:
        if args.reuse:
            from affsrv import create_app
            from affsrv.apikeys.services import create_api_key

            app = create_app(overrides={"database": {"url": url},
                                        "logs": {"dir": str(work / "logs")}})
            with app.app_context():
                apikey = create_api_key("benchmark")[1]
                from affsrv.extensions import db as _db

                started = time.monotonic()
                ensure_model_indexes(_db.engine)
                log(f"{db}: reusing the seeded database {url} (missing indexes built in "
                    f"{time.monotonic() - started:.1f} s)")
        else:
            log(f"{db}: seeding {scale.affiliates:,} affiliates, {scale.commissions:,} "
                f"commissions, {scale.payments:,} payments, {scale.clicks:,} clicks")
            started = time.monotonic()
            apikey = seed(url, scale, work)
            seed_seconds = time.monotonic() - started
            log(f"{db}: seeded in {seed_seconds:.1f} s")

        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
        env.update(args.affsrv_env)
        env.update({"AFFSRV_DATABASE_URL": url, "AFFSRV_LOGS_DIR": str(work / "logs"),
                    "PYTHONUNBUFFERED": "1"})
        py = sys.executable
        affsrv = start_server(
            "affsrv", [py, "-c", "from affsrv.cli import main; main()", "serve",
                       "--workers", str(args.workers), "--bind", "127.0.0.1:{port}"], env, work)
        servers.append(affsrv)
        floor = ["--database-url", url] if args.floor else []
        bare = start_server("bare", [py, str(BENCH_DIR / "bare_app.py"), "--workers",
                                     str(args.workers), "--bind", "127.0.0.1:{port}", *floor],
                            env, work)
        servers.append(bare)
        wait_ready(affsrv, "/r/aff1")
        wait_ready(bare, "/r/aff1")
        check_answers(affsrv.url, apikey, scale)
        check_answers(affsrv.url, apikey, scale, depth_targets(selected(args.only), scale))
        if args.floor:
            check_answers(bare.url, apikey, scale, floor_targets(selected(args.only)))
            check_answers(bare.url, apikey, scale, [
                t for t in ladder_targets(selected(args.only)) if t.kind == "api"])
        results = measure(args, scale, apikey, affsrv, bare, work, db)
    finally:
        for server in servers:
            server.stop()
        if drop is not None and not args.keep:
            drop()
        if db == "sqlite" and not args.keep and not args.sqlite_path:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work / 'bench.db'}{suffix}").unlink(missing_ok=True)
    table = render_table(db, args, scale, results, seed_seconds)
    return table, results, seed_seconds


def _postgres_database(args: argparse.Namespace) -> tuple[str, Any]:
    """The benchmark database's URL, and a function dropping it: None for a database seeded
    by an earlier run (``--reuse``), which stays for the next comparison."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from affsrv.config import database_url

    base = make_url(database_url({"database": {"url": args.pg_url}}))
    name = args.pg_database or f"affsrv_bench_{uuid.uuid4().hex[:8]}"
    url = base.set(database=name).render_as_string(hide_password=False)
    url = url.replace("postgresql+psycopg://", "postgresql://")
    if args.reuse:
        return url, None
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def selected(only: list[str] | None) -> list[Target]:
    """The subjects ``--only`` names, or all of them."""
    return [t for t in SUBJECTS if not only or t.key in only]


def baselines(subjects: list[Target]) -> list[Target]:
    kinds = {t.kind for t in subjects}
    return [b for b in (BARE_REDIRECT, BARE_ECHO) if b.kind in kinds]


# The clicks of a landing run's last flush interval are written after wrk stops, so their
# write does not slow that run; a run of at least this many intervals keeps that part small.
FLUSHES_PER_LANDING_RUN = 10


def landing_duration(args: argparse.Namespace) -> float:
    """Seconds per landing (and bare redirect) run: ``--duration``, or longer when the click
    buffer's interval needs it."""
    return max(args.duration, FLUSHES_PER_LANDING_RUN * args.flush_seconds)


def measure(args: argparse.Namespace, scale: Scale, apikey: str, affsrv: Server, bare: Server,
            work: Path, db: str) -> dict[str, Result]:
    settle = args.flush_seconds + 0.1  # the click buffer's last batch belongs to the run
    durations = {"redirect": landing_duration(args), "api": args.duration}
    subjects = selected(args.only)
    subjects += depth_targets(subjects, scale)
    if args.floor:
        subjects += floor_targets(subjects) + ladder_targets(subjects)
    targets = [*baselines(subjects), *subjects]
    results: dict[str, Result] = {t.name: Result() for t in targets}
    scripts = {t.name: lua_script(work, t, scale, apikey, n, args.keepalive)
               for n, t in enumerate(targets)}
    wrk = (args.connections, args.threads)
    if args.warmup > 0:
        log(f"warming up ({args.warmup:g} s per target)")
        for target in targets:
            server = affsrv if target.on_affsrv else bare
            run_wrk(server.url, scripts[target.name], args.warmup, *wrk)
    for rnd in range(args.rounds):
        for target in subjects:
            baseline = BARE_REDIRECT if target.kind == "redirect" else BARE_ECHO
            # Each subject run is paired with a bare run right next to it; the order flips
            # every round so neither side always runs on a warmer (or busier) machine.
            order = [(baseline, bare), (target, affsrv if target.on_affsrv else bare)]
            if rnd % 2:
                order.reverse()
            pair: dict[bool, dict[str, float]] = {}
            for tgt, server in order:
                pair[tgt.subject] = measured_run(server, scripts[tgt.name],
                                                 durations[tgt.kind], *wrk, db=db,
                                                 settle=settle)
            for tgt, figures in ((baseline, pair[False]), (target, pair[True])):
                res = results[tgt.name]
                res.rps.append(figures["rps"])
                res.p50.append(figures["p50"])
                res.p99.append(figures["p99"])
                res.app_cpu.append(figures["app_cpu"])
                res.db_cpu.append(figures["db_cpu"])
            results[target.name].ratios.append(pair[True]["rps"] / pair[False]["rps"])
            log(f"round {rnd + 1}/{args.rounds} {target.name}: {pair[True]['rps']:.0f} req/s "
                f"vs bare {pair[False]['rps']:.0f} req/s "
                f"({pair[True]['rps'] / pair[False]['rps']:.2f})")
    return results


def render_table(db: str, args: argparse.Namespace, scale: Scale, results: dict[str, Result],
                 seed_seconds: float) -> str:
    med = statistics.median
    title = "SQLite" if db == "sqlite" else "PostgreSQL"
    landing_runs = ""
    if BARE_REDIRECT.name in results:
        landing_runs = f" (landing and redirect runs -d{landing_duration(args):g}s)"
    lines = [
        f"### {title}: {scale.affiliates:,} affiliates, {scale.commissions:,} commissions, "
        f"{scale.payments:,} payments, {scale.clicks:,} clicks",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"{args.workers} gunicorn sync workers each, wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration:g}s{landing_runs}, median of {args.rounds} paired rounds"
        + (f", seeded in {seed_seconds:.0f} s" if seed_seconds else "")
        + ("".join(f", `--set {a}`" for a in args.set)),
        "",
        "| target | requests/s | p50 ms | p99 ms | app CPU us/req | db CPU us/req "
        "| ratio to bare | target ratio | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    floors = {t.floor: results[t.name] for t in floor_targets(SUBJECTS) if t.name in results}
    measured = [t for t in SUBJECTS if t.name in results]  # the ladder's steps depend on them
    for target in [BARE_REDIRECT, BARE_ECHO, *SUBJECTS, *depth_targets(SUBJECTS, scale),
                   *floor_targets(SUBJECTS), *ladder_targets(measured)]:
        if target.name not in results:  # not measured (--only, no --floor)
            continue
        res = results[target.name]
        db_cpu = f"{med(res.db_cpu):.0f}" if db == "postgresql" else "-"
        row = (f"| {target.name} | {med(res.rps):.0f} | {med(res.p50):.2f} | {med(res.p99):.2f} "
               f"| {med(res.app_cpu):.0f} | {db_cpu} |")
        if not target.subject:
            lines.append(row + " 1.00 | - | baseline |")
            continue
        # The median of the per-round ratios: each compares two runs made back to back, and
        # two rounds disturbed by other jobs on the machine do not move the median of 5.
        ratio = med(res.ratios)
        if target.floor:  # an upper bound for affsrv's op, not a target
            lines.append(row + f" {_shown(ratio)} | - | floor |")
        elif target.ladder:  # a step of the required floor: its ratio, for the ceiling rows
            lines.append(row + f" {_shown(ratio)} | - | required floor |")
        elif target.depth:  # judged by the depth rows below, against its shallowest twin
            lines.append(row + f" {_shown(ratio)} | - | depth |")
        elif target.kind == "redirect":
            lines.append(row + f" {_shown(ratio)} | {LANDING_TARGET:.2f} | "
                         f"{_verdict(ratio, LANDING_TARGET)} |")
        elif target.key in floors:  # a share of what its floor reached in the same rounds
            goal = FLOOR_SHARE * med(floors[target.key].ratios)
            lines.append(row + f" {_shown(ratio)} | {_shown(goal)} | {_verdict(ratio, goal)} |")
        else:
            lines.append(row + f" {_shown(ratio)} | - | no floor measured |")
    lines.extend(_depth_rows(scale, results))
    lines.extend(_ceiling_rows(results))
    return "\n".join(lines) + "\n"


def _shown(ratio: float) -> str:
    """Truncated to two decimals: 0.697 shows as 0.69, not 0.70 (a FAIL never shows the
    target's figure)."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def _verdict(ratio: float, goal: float) -> str:
    return "pass" if ratio >= goal else "FAIL"


def _ceiling_rows(results: dict[str, Result]) -> list[str]:
    """Per op (and the landing link) with its required floor measured: the ceiling, the ratio
    the required parts alone allow as a share of the floor's (the bare redirect's for the
    landing link), and affsrv's ratio as a share of its required floor's."""
    med = statistics.median
    rows = []
    ladder = {(t.key, t.ladder.split("/")[0]): results[t.name]
              for t in ladder_targets([t for t in SUBJECTS if t.name in results])
              if t.name in results}
    for target in SUBJECTS:
        first, last = ("redirect", "click") if target.kind == "redirect" else ("floor", "answer")
        if (target.key, first) not in ladder or (target.key, last) not in ladder:
            continue
        required = med(ladder[target.key, last].ratios)
        ceiling = required / med(ladder[target.key, first].ratios)
        rows.append(f"| ceiling: {target.name}, required floor / its floor | - | - | - | - | - "
                    f"| {_shown(ceiling)} | - | ceiling |")
        if target.name in results:
            share = med(results[target.name].ratios) / required
            rows.append(f"| {target.name} / its required floor | - | - | - | - | - "
                        f"| {_shown(share)} | - | gap |")
    return rows


def _depth_rows(scale: Scale, results: dict[str, Result]) -> list[str]:
    """Per op with depth rows: its ratio for the deepest affiliate as a share of its ratio for
    the shallowest (flat in depth: at least DEPTH_TARGET)."""
    rows = []
    for target in SUBJECTS:
        measured = [t for t in depth_targets([target], scale) if t.name in results]
        if len(measured) < 2:
            continue
        shallow, deep = measured[0], measured[-1]
        share = (statistics.median(results[deep.name].ratios)
                 / statistics.median(results[shallow.name].ratios))
        rows.append(f"| depth: {target.name}, ratio at {deep.depth:,} / ratio at "
                    f"{shallow.depth:,} | - | - | - | - | - | {_shown(share)} | "
                    f"{DEPTH_TARGET:.2f} | {_verdict(share, DEPTH_TARGET)} |")
    return rows


# --------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="affsrv benchmark (see docs/performance.md)")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--affiliates", type=int, default=100_000)
    p.add_argument("--products", type=int, default=50)
    p.add_argument("--commissions", type=int, default=1_000_000)
    p.add_argument("--payments", type=int, default=None,
                   help="default: 2 per affiliate")
    p.add_argument("--clicks", type=int, default=5_000_000)
    p.add_argument("--depths", default=",".join(map(str, DEPTHS)),
                   help="commissions (and payments) of the depth rows' affiliates, one "
                        "affiliate per number (comma-separated; 0: no depth rows)")
    p.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    p.add_argument("--warmup", type=float, default=3,
                   help="seconds of warm-up per target (0: none)")
    p.add_argument("--rounds", type=int, default=5,
                   help="paired bare/affsrv runs per target (medians are reported)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers of both apps")
    p.add_argument("--keepalive", action="store_true",
                   help="reuse connections (default: one connection per request)")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="PostgreSQL server (and a database to connect to) on which to create "
                        "the benchmark's database")
    p.add_argument("--pg-database", default=None,
                   help="name of the benchmark database (default: a fresh random name)")
    p.add_argument("--sqlite-path", default=None, help="SQLite file (default: a temporary one)")
    p.add_argument("--keep", action="store_true", help="keep the seeded database")
    p.add_argument("--reuse", action="store_true",
                   help="skip seeding: use --sqlite-path / --pg-database as seeded earlier")
    p.add_argument("--only", action="append", choices=SUBJECT_KEYS, metavar="TARGET",
                   help=f"measure only this target (repeatable; one of {', '.join(SUBJECT_KEYS)})"
                        " with its baseline")
    p.add_argument("--floor", action="store_true",
                   help="also measure the bare echo plus one part of a Data API call each "
                        "(bench/floor.py): the most any implementation doing that part can reach")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="an affsrv setting for this run (repeatable), e.g. "
                        "tracking.click_flush_ms=500; passed as AFFSRV_SECTION_KEY")
    p.add_argument("--results", default=str(BENCH_DIR / "results"),
                   help="folder for the tables (default bench/results)")
    args = p.parse_args(argv)
    if args.payments is None:
        args.payments = 2 * args.affiliates
    try:
        depths = sorted({int(d) for d in args.depths.split(",") if d.strip()} - {0})
    except ValueError:
        p.error(f"--depths {args.depths!r}: expected numbers separated by commas")
    if any(d < 0 for d in depths):
        p.error("--depths: numbers of commissions cannot be negative")
    args.depths = tuple(depths)
    if args.reuse and not (args.sqlite_path or args.pg_database):
        p.error("--reuse needs --sqlite-path or --pg-database")
    if min(args.affiliates, args.products, args.rounds, args.connections) < 1:
        p.error("counts must be positive")
    # Checked here, so a wrong setting stops the run before seeding.
    args.affsrv_env = settings_env(args.set)
    args.flush_seconds = click_flush_seconds(args.affsrv_env)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(f"wrk is not installed: the benchmark needs it. Install it with `{WRK_INSTALL}` "
              "(Debian/Ubuntu; on macOS `brew install wrk`).", file=sys.stderr)
        return 2
    scale = Scale(args.affiliates, args.products, args.commissions, args.payments, args.clicks,
                  depths=args.depths)
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results_dir = Path(args.results)
    results_dir.mkdir(parents=True, exist_ok=True)
    tables = []
    with tempfile.TemporaryDirectory(prefix="affsrv-bench-") as tmp:
        for db in databases:
            table, _, _ = bench_database(db, args, scale, Path(tmp))
            tables.append(table)
            print(table, flush=True)
    command = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = "\n".join(tables) + f"\nCommand: `{command.strip()}`\n"
    out = results_dir / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}-{args.db}.md"
    out.write_text(text)
    log(f"written to {out}")
    failed = any("| FAIL |" in t for t in tables)
    print("All targets met." if not failed else "Some targets were missed (FAIL rows).")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
