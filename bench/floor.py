"""The floor under the Data API's target: the bare JSON echo plus only what every Data API call
must do under issue 2's own rules (validate the body with a marshmallow schema, read the
totals from the database), and nothing else.

``bench/run.py --floor`` starts the bare app with ``--database-url`` (the benchmark's database)
and measures these beside the echo, in the same paired rounds as affsrv's ops:

* ``roundtrip``: the echo plus ``SELECT 1`` on the database (a round trip that reads nothing);
* ``schema``: the echo plus affsrv's marshmallow load of the call (no database);
* ``info``, ``commissions``, ``commissions-product``, ``payments``, ``referrals``: the echo plus
  that schema load plus the very SQL affsrv runs for that op (compiled from affsrv's own
  statements), for the affiliate the body names, through the leanest client call there is:
  ``sqlite3``'s ``execute`` and ``fetchall``, or a statement prepared once per connection and
  run with libpq's ``PQexecPrepared`` (psycopg's ``pq`` layer; the rows are left in the
  result, not even read). No API key check, no answer built from the rows.

An op's floor ratio to the echo is an upper bound on any implementation of that op which
validates its calls with the schema and reads the totals from the database on every call: it
does all the echo does, plus at least this. The seeded affiliates' codes are ``aff<id>``
(bench/run.py), so the affiliate's id is read off its code, as affsrv reads it from its
in-memory directory, without a query.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, jsonify, request
from psycopg import pq
from sqlalchemy import Select, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from affsrv.affiliates.services import _INFO_BY_CODE
from affsrv.commissions.services import _TOTALS as _COMMISSION_TOTALS
from affsrv.commissions.services import _TOTALS_FOR_PRODUCT as _COMMISSION_TOTALS_FOR_PRODUCT
from affsrv.dataapi.schemas import DataCallSchema
from affsrv.payments.services import _TOTALS as _PAYMENT_TOTALS
from affsrv.tracking.services import _REFERRAL_COUNTS

LEDGER_CURRENCY = "USD"  # the seeded ledger's, affsrv's default [commissions] currency

# name -> the statement affsrv runs for that op (roundtrip: a query that reads nothing)
STATEMENTS: dict[str, Select[Any]] = {
    "roundtrip": select(literal(1)),
    "info": _INFO_BY_CODE,
    "commissions": _COMMISSION_TOTALS,
    "commissions-product": _COMMISSION_TOTALS_FOR_PRODUCT,
    "payments": _PAYMENT_TOTALS,
    "referrals": _REFERRAL_COUNTS,
}
FLOORS = ("roundtrip", "schema", *(name for name in STATEMENTS if name != "roundtrip"))


@dataclass(frozen=True)
class Compiled:
    name: bytes  # the prepared statement's name (libpq)
    sql: str
    names: tuple[str, ...]  # the parameters' names, in their order in ``sql``
    constants: dict[str, Any]  # the statement's own values (e.g. status = 'approved')

    def args(self, given: dict[str, Any]) -> list[Any]:
        return [given[n] if n in given else self.constants[n] for n in self.names]


def compile_for(name: str, statement: Select[Any], dialect_name: str) -> Compiled:
    """``statement`` as SQL with positional parameters: ``?`` for sqlite3, ``$1`` for libpq."""
    dialect = (sqlite.dialect() if dialect_name == "sqlite"
               else postgresql.psycopg.dialect(paramstyle="numeric_dollar"))
    compiled = statement.compile(dialect=dialect)
    return Compiled(name.encode(), compiled.string, tuple(compiled.positiontup or ()),
                    {name: bind.value for name, bind in compiled.binds.items()})


class RawReader:
    """One connection per thread and process (made in the gunicorn worker, never across a
    fork), running each floor's statement with the plainest driver call."""

    def __init__(self, url: str) -> None:
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.url = url
        self.compiled = {name: compile_for(name, st, self.dialect)
                         for name, st in STATEMENTS.items()}
        self._local = threading.local()

    def _connection(self) -> Any:
        found = getattr(self._local, "value", None)
        if found is None or found[0] != os.getpid():
            found = self._local.value = (os.getpid(), self._connect(), set())
        return found

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            # As affsrv reads it (affsrv/app.py): pages through a memory map.
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA query_only=ON")
            return conn
        import psycopg

        return psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)

    def run(self, name: str, given: dict[str, Any]) -> int:
        """Run floor ``name``'s statement with the parameters in ``given``; how many rows."""
        _, conn, prepared = self._connection()
        compiled = self.compiled[name]
        if self.dialect == "sqlite":
            return len(conn.execute(compiled.sql, compiled.args(given)).fetchall())
        pgconn = conn.pgconn
        if name not in prepared:
            result = pgconn.prepare(compiled.name, compiled.sql.encode())
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise RuntimeError(pgconn.get_error_message())
            prepared.add(name)
        params = [None if v is None else str(v).encode() for v in compiled.args(given)]
        result = pgconn.exec_prepared(compiled.name, params)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise RuntimeError(pgconn.get_error_message())
        return result.ntuples


def _given(body: dict[str, Any]) -> dict[str, Any]:
    """The parameters affsrv's statements take, from a Data API body of the benchmark's."""
    code = body["affiliate"]
    return {"code": code, "affiliate_id": int(code.removeprefix("aff")),
            "product_id": int(body["data"].get("product") or 0), "currency": LEDGER_CURRENCY}


def add_floor_routes(app: Flask, database_url: str) -> None:
    """``POST /floor/<name>`` on the bare app: the JSON echo plus that floor's parts."""
    reader = RawReader(database_url)
    schema = DataCallSchema()

    def part(name: str) -> Callable[[dict[str, Any]], Any]:
        if name == "schema":
            return schema.load
        if name == "roundtrip":
            return lambda body: reader.run(name, {})

        def op(body: dict[str, Any]) -> None:
            schema.load(body)
            reader.run(name, _given(body))

        return op

    parts = {name: part(name) for name in FLOORS}

    @app.post("/floor/<name>")
    def floor(name: str) -> Any:
        part = parts.get(name)
        if part is None:
            abort(404)
        body = request.get_json()
        part(body)
        return jsonify({"status": "ok", "data": body})


# ------------------------------------------------------------------------ the required floor
#
# What a Data API call must do beyond its floor under the project's own rules, added one part
# at a time (each step does everything the steps before it do), every part through affsrv's
# own functions:
#
# * ``floor``: the op's floor above (echo + schema load + the op's SQL, leanest driver call);
# * ``body``: the body read as affsrv must read it: within ``[server] max_body_bytes`` however
#   it is sent (``read_body``), amounts decoded as Decimal, NUL and unpaired surrogates refused
#   (docs/security-input.md), and what is left of it drained before answering (``drain_body``);
# * ``key``: the API key checked (``is_valid_api_key``: its hash compared with every active
#   key's in constant time);
# * ``limit``: the wrong-key failure limit tested before the key (``failure_limit``, the
#   decorator affsrv's view wears): an over-limit client is refused before its key is looked
#   at (docs/security-throttling.md);
# * ``directory``: the affiliate (and product) looked up in the worker's directory and a
#   disabled one refused, instead of the id read off the seeded code (``info`` reads the record
#   itself, so it has no such lookup);
# * ``answer``: the op run by affsrv's service (``data_op``: the directory, the read
#   connection, the answer built from the rows: money as Decimal, the totals' shape) and that
#   answer sent back instead of the echo. This is the required floor: what is left between
#   it and affsrv's op is affsrv's own plumbing (its app's hooks, the view's logging checks).
#
# The landing link's ladder, against the bare redirect:
#
# * ``redirect``: the bare redirect with its cookie (bench/bare_app.py);
# * ``lookup``: its target and cookie from ``resolve_landing`` (the affiliate and product from
#   the worker's directories, the refusals, the self-referral check), the click not counted;
# * ``click``: affsrv's landing view itself: the same, plus the click recorded in the
#   ClickBuffer and written, batched, by its thread in this process (clicks, click counts and
#   the reports' rollups of issue 21, committed).
LADDER = ("floor", "body", "key", "limit", "directory", "answer")
LANDING_LADDER = ("redirect", "lookup", "click")
LADDER_OPS = tuple(name for name in STATEMENTS if name != "roundtrip")


def create_ladder_app(database_url: str, logs_dir: str | None = None) -> Flask:
    """The required floor's steps: ``POST /ladder/<step>/<op>`` (``LADDER``, an op of
    ``LADDER_OPS``) and ``GET /ladder/<step>/r/<code>`` (``LANDING_LADDER``). A bare Flask app
    with only the affsrv extensions the steps need, set up by affsrv's own functions and
    settings (the environment's ``AFFSRV_*``, as the benchmark gives affsrv): the database
    (keys, directories, the click writer), the limiter, the logs, the click buffer."""
    import atexit
    import shutil
    import tempfile

    from affsrv.app import import_models, init_core
    from affsrv.config import load_settings
    from affsrv.tracking.services import init_click_buffer

    settings = load_settings(overrides={
        "database": {"url": database_url},
        **({"logs": {"dir": logs_dir}} if logs_dir else {}),
    })
    if not logs_dir and "AFFSRV_LOGS_DIR" not in os.environ:
        # Logs nobody reads (the tests' apps): a folder of their own, gone when the process is.
        settings["logs"]["dir"] = tempfile.mkdtemp(prefix="affsrv-ladder-logs-")
        atexit.register(shutil.rmtree, settings["logs"]["dir"], ignore_errors=True)
    app = Flask(__name__)
    import_models()
    # affsrv's own set-up, views apart: its answers are encoded as affsrv encodes them
    # (orjson), so the answer step measures building the answer, not another encoder.
    init_core(app, settings)
    init_click_buffer(app)
    reader = RawReader(database_url)
    for step in LADDER:
        app.add_url_rule(f"/ladder/{step}/<op>", endpoint=f"ladder_{step}",
                         view_func=_ladder_view(step, reader), methods=["POST"])
    for step in LANDING_LADDER:
        app.add_url_rule(f"/ladder/{step}/r/<path:code>", endpoint=f"ladder_landing_{step}",
                         view_func=_landing_view(step), methods=["GET"])
    return app


def _ladder_view(step: str, reader: RawReader) -> Callable[..., Any]:
    from affsrv.affiliates.directory import find_affiliate
    from affsrv.apikeys.services import is_valid_api_key
    from affsrv.dataapi.services import _refuse_disabled, data_op
    from affsrv.dataapi.views import _parse_body, _refuse_unstorable_text
    from affsrv.errors import NotFound
    from affsrv.products.directory import find_product
    from affsrv.ratelimits import count_failure, failure_limit
    from affsrv.request_body import drain_body

    level = LADDER.index(step)
    schema = DataCallSchema()

    def view(op: str) -> Any:
        if op not in LADDER_OPS:
            abort(404)
        if level >= LADDER.index("body"):
            body, text = _parse_body()
            _refuse_unstorable_text(body, text)
        else:
            body = request.get_json()
        if level >= LADDER.index("key") and not is_valid_api_key(body.get("apikey")):
            count_failure()
            abort(403)
        call = schema.load(body)
        if level >= LADDER.index("answer"):
            answer = {"status": "ok", **data_op(call["affiliate"], call["data"])}
        else:
            given = _given(body)
            if level >= LADDER.index("directory") and op != "info":
                found = find_affiliate(call["affiliate"])
                if found is None:
                    raise NotFound("unknown affiliate")
                _refuse_disabled(call["affiliate"], found.enabled)
                product = call["data"]["product"]
                if product is not None and find_product(product) is None:
                    raise NotFound("unknown product")
                given["affiliate_id"] = found.id
            reader.run(op, given)
            answer = {"status": "ok", "data": body}
        if level >= LADDER.index("body"):
            drain_body(request.environ)
        return jsonify(answer)

    view.__name__ = f"ladder_{step}"  # the limiter registers a limited view by its name
    if level >= LADDER.index("limit"):
        return failure_limit("api_key_failures_per_address")(view)
    return view


def _landing_view(step: str) -> Callable[..., Any]:
    from bare_app import COOKIE_NAME, LANDING, redirect_with_cookie

    from affsrv.tracking.services import normalise_ip, resolve_landing
    from affsrv.tracking.views import landing as affsrv_landing

    def view(code: str) -> Any:
        if step == "click":
            return affsrv_landing(code)
        if step == "redirect":
            product = request.args.get("p", "")
            target = f"{LANDING}p/{product}" if product.isdigit() else LANDING
            return redirect_with_cookie(f"{target}?{COOKIE_NAME}={code}", code)
        landing = resolve_landing(code, request.args.get("p"),
                                  link=request.headers.get("Referer", ""),
                                  ip=normalise_ip(request.remote_addr),
                                  user_agent=request.headers.get("User-Agent", ""), count=False)
        if landing.cookie_code is None:
            abort(404)  # the benchmark's codes all land with a cookie
        return redirect_with_cookie(landing.url, landing.cookie_code)

    view.__name__ = f"ladder_landing_{step}"
    return view
