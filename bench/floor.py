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
