"""Appending many rows, and adding to many counters and sums, at once with each database's
own bulk path.

The landing link's click buffer writes a thousand rows at a time, and every sale adds to
dozens of report rollups. Through SQLAlchemy's ``execute`` each row or statement costs more
Python than the database spends on it, so these functions convert the values with the columns'
own bind processors (the same conversion SQLAlchemy would make: a ``UTCDateTime`` becomes
SQLite's naive UTC text, money SQLite's integer cents) and hand them to the driver:
``append_rows`` with ``COPY ... FROM STDIN`` on PostgreSQL (a fraction of the server work of
one INSERT per row), ``executemany`` elsewhere; ``add_sums``/``add_counts`` with one upsert
statement per table (``unnest`` of a column per array on PostgreSQL), several tables' in one
round trip inside ``pipelined``. They run in the caller's transaction, and raise SQLAlchemy's
errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    with _driver(connection, sql) as driver:
        cursor = driver.cursor()
        try:
            if connection.dialect.name == "postgresql":
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows)
        finally:
            cursor.close()


@contextmanager
def _driver(connection: Connection, sql: str) -> Iterator[Any]:
    """The driver's own connection, its errors raised as SQLAlchemy's, as from
    ``connection.execute`` (a database that is down answers 503, not 500)."""
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    try:
        yield driver
    except dialect.loaded_dbapi.Error as exc:
        dropped = dialect.is_disconnect(exc, driver, None)
        if dropped:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect,
            connection_invalidated=dropped,
        ) from exc


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """The ``add_sums``/``add_counts`` inside sent without waiting for each answer: on
    PostgreSQL in psycopg's pipeline mode (a write's dozens of rollup upserts cost one round
    trip, not one each; an error is raised at the block's end, the transaction then failed);
    elsewhere nothing changes (SQLite works in this process)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    with _driver(connection, "(pipeline)") as driver, driver.pipeline():
        yield


#: (statement for many rows, statement for one row, steps converting a row)
_SumPlan = tuple[str, str, list[Step]]
_sum_plans: dict[tuple[str, int, tuple[str, ...]], _SumPlan] = {}


def _sum_plan(connection: Connection, table: Table, measures: tuple[str, ...]) -> _SumPlan:
    """The upserts adding ``measures`` to ``table``'s rows by primary key, and the steps
    converting a row (key columns, then measures) as the columns' types would. On
    PostgreSQL, many rows go in one statement (a column of values per array, ``unnest``);
    one row goes as plain parameters: dumping fifteen one-element arrays cost a sale's
    rollups more client CPU than the upserts saved (measured with bench/report_write_cost.py
    --profile). SQLite takes one row at a time either way (``executemany``)."""
    dialect = connection.dialect
    key = (dialect.name, id(table), measures)
    plan = _sum_plans.get(key)
    if plan is None:
        quote = dialect.identifier_preparer.quote
        columns = [*table.primary_key.columns, *(table.c[m] for m in measures)]
        name = quote(table.name)
        sums = ", ".join(f"{quote(m)} = {name}.{quote(m)} + excluded.{quote(m)}"
                         for m in measures)
        head = f"INSERT INTO {name} ({', '.join(quote(c.name) for c in columns)})"
        tail = (f"ON CONFLICT ({', '.join(quote(c.name) for c in table.primary_key.columns)}) "
                f"DO UPDATE SET {sums}")
        marker = "%s" if dialect.paramstyle in {"format", "pyformat"} else "?"
        one = f"{head} VALUES ({', '.join([marker] * len(columns))}) {tail}"
        many = one
        if dialect.name == "postgresql":
            arrays = ", ".join(f"%s::{c.type.compile(dialect)}[]" for c in columns)
            many = f"{head} SELECT * FROM unnest({arrays}) {tail}"
        steps = steps_of(c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns)
        plan = _sum_plans[key] = (many, one, steps)
    return plan


def _add(connection: Connection, table: Table, measures: tuple[str, ...],
         rows: list[tuple[Any, ...]]) -> None:
    many, one, steps = _sum_plan(connection, table, measures)
    if steps:
        rows = converted(rows, steps)
    with _driver(connection, one if len(rows) == 1 else many) as driver:
        cursor = driver.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(one, rows[0])
            elif many is one:
                cursor.executemany(one, rows)
            else:
                cursor.execute(many, tuple(list(column) for column in zip(*rows, strict=True)))
        finally:
            cursor.close()


def add_sums(
    connection: Connection, table: Table, measures: Sequence[str],
    rows: Mapping[tuple[Any, ...], Sequence[Any]],
) -> None:
    """Add each of ``rows`` (key -> values of ``measures``) to the row of ``table`` whose
    primary key is its key (a tuple in the order of the primary key's columns), making the
    rows that do not exist yet: an upsert per row on SQLite, one statement for them all on
    PostgreSQL, through the driver (SQLAlchemy's ``execute`` cost a rollup write more than
    the database's work). Values are converted by the columns' types (money stays exact).
    Keys are taken in sorted order, so two transactions adding to the same rows lock them in
    the same order (no deadlock). It runs in the caller's transaction."""
    if rows:
        _add(connection, table, tuple(measures),
             [(*key, *values) for key, values in sorted(rows.items())])


def add_counts(
    connection: Connection, table: Table, count_column: str,
    counted: Mapping[tuple[Any, ...], int],
) -> None:
    """``add_sums`` of one count per key."""
    if counted:
        _add(connection, table, (count_column,),
             [(*key, amount) for key, amount in sorted(counted.items())])
