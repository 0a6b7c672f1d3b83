"""Connections for the read-only hot paths (landing-link lookups, the Data API's ops).

``read_connection`` is checked out of the same pool as the request's session but skips the
ORM session (its set-up and tear-down cost more than the query itself). On PostgreSQL it runs
in autocommit mode: a single SELECT needs no BEGIN and ROLLBACK round trips, and each statement
still sees only committed data. ``first_row`` goes one step further for the landing link's
one-row lookups: the statement is compiled once per dialect and run on the pooled DBAPI
connection (same pool, same pre-ping), with no per-call SQLAlchemy execution machinery; it is
only for statements whose result columns need no type conversion (ints, strings, booleans).
Nothing is written through either: writes go through ``db.session``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Select

from affsrv.extensions import db


@contextmanager
def read_connection() -> Iterator[Connection]:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


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
    """The first row of a module-level (long-lived) ``statement``, as a plain tuple."""
    engine = db.engine
    sql, names = _compile(statement, engine.dialect)
    args: Any = params if names is None else tuple(params[name] for name in names)
    pooled = engine.raw_connection()  # the pool's checkout: pre-ping and all
    try:
        dbapi = pooled.driver_connection
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            dbapi.autocommit = True  # no BEGIN/ROLLBACK round trips for one SELECT
        try:
            cursor = dbapi.cursor()
            try:
                cursor.execute(sql, args)
                return cursor.fetchone()
            finally:
                cursor.close()
        finally:
            if postgres:
                dbapi.autocommit = False
    finally:
        pooled.close()  # back to the pool
