"""Connections for the read-only hot paths (landing-link lookups, the Data API's ops).

Each such request runs one to three SELECTs, so what surrounds them matters more than the
queries: these paths skip the ORM session (its set-up and tear-down cost more than the query),
and on PostgreSQL they use a second, small pool of autocommit connections without pre-ping, so a
lookup is one round trip instead of four (pre-ping, BEGIN, SELECT, ROLLBACK). Each statement
still sees only committed data. A connection the server dropped (a restart) is detected on use
and the read retried once on a fresh one, which is what pre-ping would have done. On SQLite they
use the app's own engine (no round trips to save).

``run_read(fn)`` gives ``fn`` such a connection. ``first_row`` goes one step further for the
landing link's one-row lookups: the statement is compiled once per dialect and run on the
pooled DBAPI connection, with no per-call SQLAlchemy execution machinery; it is only for
statements whose result columns need no type conversion (ints, strings, booleans).
Nothing is written through either: writes go through ``db.session``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.exc import DBAPIError

from affsrv.extensions import db

T = TypeVar("T")
_lock = threading.Lock()


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


def run_read(fn: Callable[[Connection], T]) -> T:
    """``fn(connection)`` on a read connection; retried once if the connection was dead."""
    engine = read_engine()
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                return fn(connection)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


_compiled: dict[tuple[str, int], tuple[str, tuple[str, ...] | None]] = {}


def _compile(statement: Select[Any], dialect: Any) -> tuple[str, tuple[str, ...] | None]:
    key = (dialect.name, id(statement))
    found = _compiled.get(key)
    if found is None:
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        found = _compiled[key] = (compiled.string, names)
    return found


def first_row(statement: Select[Any], params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a module-level (long-lived) ``statement``, as a plain tuple.

    Database errors come out as SQLAlchemy's exceptions, as from any other query."""
    engine = read_engine()
    dialect = engine.dialect
    sql, names = _compile(statement, dialect)
    args: Any = params if names is None else tuple(params[name] for name in names)
    for attempt in (1, 2):
        pooled = engine.raw_connection()
        try:
            cursor = pooled.driver_connection.cursor()
            try:
                cursor.execute(sql, args)
                return cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            dropped = dialect.is_disconnect(exc, pooled.driver_connection, None)
            if dropped:
                pooled.invalidate(exc)
            if attempt == 1 and dropped:
                continue
            raise DBAPIError.instance(
                sql, args, exc, dialect.loaded_dbapi.Error, dialect=dialect,
                connection_invalidated=dropped,
            ) from exc
        finally:
            pooled.close()  # back to the pool
    raise AssertionError("unreachable")
