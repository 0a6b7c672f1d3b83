"""Appending many rows, and adding to many counters, at once with each database's own bulk
path.

The landing link's click buffer writes a thousand rows at a time. Through SQLAlchemy's
``execute(insert(table), rows)`` each row costs more Python than the database spends on it, so
``append_rows`` converts the values with the columns' own bind processors (the same conversion
SQLAlchemy would make: a ``UTCDateTime`` becomes SQLite's naive UTC text, for instance) and hands
them to the driver in one call: ``COPY ... FROM STDIN`` on PostgreSQL (a fraction of the server
work of one INSERT per row), ``executemany`` elsewhere. It runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

from affsrv.db.processors import Step, converted, steps_of

_Plan = tuple[str, list[Step]]
_plans: dict[tuple[str, int, tuple[str, ...]], _Plan] = {}


def _plan(connection: Connection, table: Table, columns: tuple[str, ...]) -> _Plan:
    dialect = connection.dialect
    key = (dialect.name, id(table), columns)
    plan = _plans.get(key)
    if plan is None:
        cols = [table.c[name] for name in columns]
        if dialect.name == "postgresql":
            quote = dialect.identifier_preparer.quote
            sql = (f"COPY {quote(table.name)} ({', '.join(quote(c.name) for c in cols)}) "
                   "FROM STDIN")
        else:
            sql = str(insert(table).values({c.name: None for c in cols}).compile(
                dialect=dialect, column_keys=list(columns)))
        steps = steps_of(c.type.dialect_impl(dialect).bind_processor(dialect) for c in cols)
        plan = _plans[key] = (sql, steps)
    return plan


def append_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples of values in the order of ``columns``) into ``table``."""
    if not rows:
        return
    sql, steps = _plan(connection, table, tuple(columns))
    if steps:
        rows = converted(rows, steps)
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    try:
        cursor = driver.cursor()
        try:
            if dialect.name == "postgresql":
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows)
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        # Out as SQLAlchemy's exception, as from ``connection.execute`` (a database that is
        # down answers 503, not 500).
        dropped = dialect.is_disconnect(exc, driver, None)
        if dropped:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect,
            connection_invalidated=dropped,
        ) from exc


_count_plans: dict[tuple[str, int, str], str] = {}


def _count_sql(connection: Connection, table: Table, count_column: str) -> str:
    dialect = connection.dialect
    key = (dialect.name, id(table), count_column)
    sql = _count_plans.get(key)
    if sql is None:
        quote = dialect.identifier_preparer.quote
        keys = list(table.primary_key.columns)
        names = ", ".join(quote(c.name) for c in keys)
        count = quote(count_column)
        columns = f"{names}, {count}"
        if dialect.name == "postgresql":
            # One statement for the whole batch: a column of values per array.
            arrays = ", ".join(f"%s::{c.type.compile(dialect)}[]"
                               for c in [*keys, table.c[count_column]])
            source = f"SELECT * FROM unnest({arrays})"
        else:
            source = f"VALUES ({', '.join('?' * (len(keys) + 1))})"
        sql = _count_plans[key] = (
            f"INSERT INTO {quote(table.name)} ({columns}) {source} "
            f"ON CONFLICT ({names}) DO UPDATE SET {count} = "
            f"{quote(table.name)}.{count} + excluded.{count}"
        )
    return sql


def add_counts(
    connection: Connection, table: Table, count_column: str,
    counted: Mapping[tuple[Any, ...], int],
) -> None:
    """Add each ``counted`` amount to the row of ``table`` whose primary key is its key (a
    tuple in the order of the primary key's columns), making the rows that do not exist yet:
    an upsert per row on SQLite, one statement for them all on PostgreSQL. Keys are taken in
    sorted order, so two transactions adding to the same rows lock them in the same order
    (no deadlock). It runs in the caller's transaction."""
    if not counted:
        return
    rows = [(*key, amount) for key, amount in sorted(counted.items())]
    sql = _count_sql(connection, table, count_column)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(sql, tuple(list(column) for column in zip(*rows, strict=True)))
    else:
        connection.exec_driver_sql(sql, rows)
