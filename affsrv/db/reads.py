"""Connections for the read-only hot paths (the Data API's ops, directory loads and misses).

Each such request runs one SELECT, so what surrounds it matters more than the query: these
paths skip the ORM session (its set-up and tear-down cost more than the query), and on
PostgreSQL they use a second, small pool of autocommit connections without pre-ping, so a
lookup is one round trip instead of four (pre-ping, BEGIN, SELECT, ROLLBACK). Each statement
still sees only committed data. A connection the server dropped (a restart) is detected on use
and the read retried once on a fresh one, which is what pre-ping would have done. On SQLite
they use the app's own engine (no round trips to save).

``run_read(fn)`` gives ``fn`` such a connection, one kept per thread instead of checked out of
the pool for every request. ``all_rows``/``one_row`` go one step further for statements built
once at import time: each is compiled once per dialect and run on a cursor the DBAPI
connection keeps, its values converted by SQLAlchemy's own result processors of its column
types, with none of SQLAlchemy's per-call execution machinery (which costs more than a small
indexed query). On PostgreSQL they skip psycopg's cursor too: each statement is prepared once
per connection and run with libpq's ``PQexecPrepared`` through psycopg's ``pq`` layer, its
parameters dumped and its rows loaded by psycopg's own adapters (a ``Transformer``, as its
cursor would), which saves the cursor's per-query work (query conversion, its prepared
statements' bookkeeping, its non-blocking wait loop): 15 to 20 us of CPU per query, almost
as much as the query's own client work (``bench/parts.py steps``).
Parameters are passed to the driver as given, so they must be plain ints and strings (no bind
processing). Nothing is written through any of these: writes go through ``db.session``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from affsrv.db.processors import Step, converted, steps_of
from affsrv.extensions import db

T = TypeVar("T")
_lock = threading.Lock()
_inherited: list[Any] = []  # connections a forked child must neither use nor close


def read_engine() -> Engine:
    """The engine for read-only hot paths (see the module's docstring)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get("affsrv_reads")
    if engine is None:
        with _lock:
            engine = app.extensions.get("affsrv_reads")
            if engine is None:
                engine = db.engine
                if engine.dialect.name == "postgresql":
                    # Made lazily, so inside each gunicorn worker: never shared across a fork.
                    reads = create_engine(
                        engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                        pool_size=5, max_overflow=10,
                    )
                    # Closed with the app's engine (tests dispose of theirs after each test).
                    event.listen(engine, "engine_disposed", lambda _engine: reads.dispose())
                    engine = reads
                app.extensions["affsrv_reads"] = engine
    return engine


_reader = threading.local()


def _forget(found: tuple[Any, int, Any]) -> None:
    """Let go of a kept connection that is no longer the one to use: closed if it is this
    process's (another app's engine), kept alive untouched if a forked child inherited it."""
    if found[1] != os.getpid():
        _inherited.append(found)
        return
    with contextlib.suppress(Exception):
        found[2].close()


def _thread_connection(engine: Engine) -> Connection:
    """A read ``Connection`` this thread keeps: checking one out of the pool and back for every
    request costs more than the Data API's small queries."""
    found = getattr(_reader, "value", None)
    if found is not None:
        if found[0] is engine and found[1] == os.getpid() and not found[2].closed:
            return found[2]
        _forget(found)
    connection = engine.connect()
    _reader.value = (engine, os.getpid(), connection)
    return connection


def _drop_thread_connection(connection: Connection) -> None:
    _reader.value = None
    with contextlib.suppress(Exception):
        connection.invalidate()
    with contextlib.suppress(Exception):
        connection.close()


def run_read(fn: Callable[[Connection], T]) -> T:
    """``fn(connection)`` on the thread's read connection; retried once on a fresh one if the
    connection was dead. ``fn`` must only read."""
    engine = read_engine()
    for attempt in (1, 2):
        connection = _thread_connection(engine)
        try:
            return fn(connection)
        except DBAPIError as exc:
            _drop_thread_connection(connection)
            if attempt == 2 or not exc.connection_invalidated:
                raise
        finally:
            if not connection.closed and connection.in_transaction():
                # Something ran through SQLAlchemy's execute (which begins a transaction):
                # never keep a read transaction open between requests (SQLite's WAL could not
                # be checkpointed past it).
                connection.rollback()
    raise AssertionError("unreachable")


class _Plan:
    """A statement compiled once for a dialect, and how to turn its raw rows into values:
    SQLAlchemy's own result processors of its column types (so values are the same as from
    ``connection.execute``), picked once the first result has said what the columns are."""

    def __init__(self, statement: Select[Any], dialect: Any) -> None:
        # psycopg on PostgreSQL: compiled with $n parameters, for PQexecPrepared.
        self.prepared = dialect.name == "postgresql" and dialect.driver == "psycopg"
        compiled = statement.compile(dialect=_DOLLAR if self.prepared else dialect)
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ()) if compiled.positional else None
        # The statement's own constants (e.g. status = 'approved'); the caller adds the rest.
        self.constants = {name: bind.value for name, bind in compiled.binds.items()}
        self.columns = list(statement.selected_columns)
        self.row = namedtuple("row", [c.key for c in self.columns], rename=True)  # type: ignore[misc]
        self.dialect = dialect
        self.steps: list[Step] | None = None
        # Its prepared statement's name: one per plan in this process (``next`` of a count
        # is atomic, so two threads making plans at once never share one).
        self.name = f"affsrv_read_{next(_plan_numbers)}".encode()
        self.formats = [PyFormat.TEXT] * len(self.names or ())

    def args(self, params: Mapping[str, Any]) -> Any:
        values = {**self.constants, **params}
        return values if self.names is None else tuple(values[name] for name in self.names)

    def learn_types(self, type_codes: list[Any]) -> None:
        dialect = self.dialect
        self.steps = steps_of(
            column.type.dialect_impl(dialect).result_processor(dialect, type_code)
            for column, type_code in zip(self.columns, type_codes, strict=True)
        )

    def make_rows(self, raw: list[tuple[Any, ...]], named: bool = True) -> list[tuple[Any, ...]]:
        rows = converted(raw, self.steps) if self.steps else raw
        return [self.row._make(values) for values in rows] if named else rows


# The PostgreSQL dialect SQLAlchemy runs psycopg with, compiling $1, $2... as libpq takes them.
_DOLLAR = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[attr-defined]


_plans: dict[tuple[str, int], _Plan] = {}
_plan_numbers = itertools.count(1)


def _plan(statement: Select[Any], dialect: Any) -> _Plan:
    key = (dialect.name, id(statement))
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = _Plan(statement, dialect)
    return plan


_CURSOR = "affsrv_read_cursor"


def _kept_cursor(connection: Connection) -> Any:
    """The DBAPI connection's own cursor for these reads, made once (making a psycopg cursor
    per query is a noticeable part of a small query's client CPU). Kept in the pool's info of
    that DBAPI connection, which SQLAlchemy clears when it replaces the connection, so a cursor
    never outlives its connection."""
    info = connection.connection.info
    cursor = info.get(_CURSOR)
    if cursor is None:
        cursor = info[_CURSOR] = connection.connection.driver_connection.cursor()
    return cursor


def _drop_kept_cursor(connection: Connection) -> None:
    cursor = connection.connection.info.pop(_CURSOR, None)
    if cursor is not None:
        with contextlib.suppress(Exception):
            cursor.close()


def _fetch(plan: _Plan, cursor: Any, params: Mapping[str, Any], named: bool) -> list[Any]:
    # Every row is fetched: on SQLite that also ends the statement, so no read snapshot is
    # held between requests.
    cursor.execute(plan.sql, plan.args(params))
    raw = cursor.fetchall()
    if plan.steps is None:
        plan.learn_types([description[1] for description in cursor.description])
    return plan.make_rows(raw, named)


_PREPARED = "affsrv_read_prepared"


def _fetch_prepared(
    plan: _Plan, connection: Connection, params: Mapping[str, Any], named: bool
) -> list[Any]:
    """``_fetch`` on PostgreSQL, through psycopg's ``pq`` layer (see the module's docstring).
    The statements prepared on a connection and its Transformer are kept in the pool's info
    of that DBAPI connection, cleared with it when SQLAlchemy replaces it."""
    fairy = connection.connection
    driver = fairy.driver_connection
    kept = fairy.info.get(_PREPARED)
    if kept is None:
        kept = fairy.info[_PREPARED] = (Transformer(driver), set())
    transformer, prepared = kept
    pgconn = driver.pgconn  # type: ignore[union-attr]
    values = transformer.dump_sequence(plan.args(params), plan.formats)
    if plan.name not in prepared:
        _prepare(plan, pgconn, driver)
        prepared.add(plan.name)
    result = pgconn.exec_prepared(plan.name, values)
    if result.error_field(pq.DiagnosticField.SQLSTATE) == _NOT_PREPARED:
        # Gone from the server's session (a DISCARD ALL, a pooler's new session): again.
        _prepare(plan, pgconn, driver)
        result = pgconn.exec_prepared(plan.name, values)
    _check(result, pq.ExecStatus.TUPLES_OK, driver)
    transformer.set_pgresult(result)
    raw = transformer.load_rows(0, result.ntuples, tuple)
    transformer.set_pgresult(None)
    if plan.steps is None:
        plan.learn_types([result.ftype(i) for i in range(result.nfields)])
    return plan.make_rows(raw, named)


_NOT_PREPARED = b"26000"  # invalid_sql_statement_name


def _prepare(plan: _Plan, pgconn: Any, driver: Any) -> None:
    _check(pgconn.prepare(plan.name, plan.sql.encode()), pq.ExecStatus.COMMAND_OK, driver)


def _check(result: Any, expected: pq.ExecStatus, driver: Any) -> None:
    if result.status != expected:
        raise pg_errors.error_from_result(result, encoding=driver.info.encoding)


def _wrapped(plan: _Plan, params: Mapping[str, Any], exc: Exception, dropped: bool) -> Exception:
    return DBAPIError.instance(
        plan.sql, plan.args(params), exc, plan.dialect.loaded_dbapi.Error, dialect=plan.dialect,
        connection_invalidated=dropped,
    )


def all_rows(
    connection: Connection, statement: Select[Any], params: Mapping[str, Any],
    named: bool = True,
) -> list[Any]:
    """Every row of a module-level (long-lived) ``statement``, run on ``connection``'s DBAPI
    connection: named tuples (``named=False``: plain tuples) of the same values
    ``connection.execute`` would give, without its per-call machinery. Database errors come
    out as SQLAlchemy's exceptions (so ``run_read`` retries a dropped connection and a
    database that is down still answers 503)."""
    dialect = connection.dialect
    plan = _plan(statement, dialect)
    try:
        if plan.prepared:
            return _fetch_prepared(plan, connection, params, named)
        return _fetch(plan, _kept_cursor(connection), params, named)
    except dialect.loaded_dbapi.Error as exc:
        _drop_kept_cursor(connection)
        dropped = dialect.is_disconnect(exc, connection.connection.driver_connection, None)
        if dropped:
            connection.invalidate(exc)
        raise _wrapped(plan, params, exc, dropped) from exc


def one_row(connection: Connection, statement: Select[Any], params: Mapping[str, Any]) -> Any:
    """The first row of ``statement`` (see ``all_rows``), or None."""
    rows = all_rows(connection, statement, params)
    return rows[0] if rows else None
