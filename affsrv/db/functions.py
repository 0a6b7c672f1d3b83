"""SQL functions whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from affsrv.db.types import FixedDecimal


class unix_seconds(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it is
    """Whole Unix seconds (rounded down) of a ``UTCDateTime`` expression, computed by the
    database: the Data API answers times as Unix seconds, and converting in SQL spares parsing
    a datetime per row."""

    type = BigInteger()
    name = "unix_seconds"
    inherit_cache = True


@compiles(unix_seconds)
def _unix_seconds(element: unix_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(unix_seconds, "sqlite")
def _unix_seconds_sqlite(element: unix_seconds, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text ("YYYY-MM-DD HH:MM:SS.ffffff"), which
    # strftime('%s') reads as UTC; the fraction is cut off first because SQLite would round
    # it to milliseconds (.9999 becoming the next second).
    value = compiler.process(element.clauses, **kw)
    return f"CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER)"


class money_text(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it is
    """An amount of a ``Money``/``MoneySum`` column as the Data API writes it, two decimals
    (``"1234.50"``, ``"-0.05"``), formatted by the database from its exact value: the totals ops
    answer dozens of amounts, and making a ``Decimal`` of each and formatting it in Python was
    about a sixth of their CPU in process. Equal to ``f"{amount:.2f}"`` of the column's
    ``Decimal``."""

    type = String()
    name = "money_text"
    inherit_cache = True

    def __init__(self, amount: Any) -> None:
        kind = getattr(amount, "type", None)
        if not isinstance(kind, FixedDecimal) or kind.scale != 2:
            raise TypeError("money_text: a column of two decimal places (Money, MoneySum)")
        super().__init__(amount)


@compiles(money_text)
def _money_text(element: money_text, compiler: Any, **kw: Any) -> str:
    # NUMERIC(p, 2) prints with exactly its two decimals, never an exponent.
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(money_text, "sqlite")
def _money_text_sqlite(element: money_text, compiler: Any, **kw: Any) -> str:
    # Stored as whole cents (FixedDecimal): split in integer arithmetic, the sign apart (-5
    # cents is -0.05, and -5 / 100 is 0).
    cents = compiler.process(element.clauses, **kw)
    return (f"printf('%s%d.%02d', CASE WHEN {cents} < 0 THEN '-' ELSE '' END, "
            f"abs({cents}) / 100, abs({cents}) % 100)")


class json_array_has(FunctionElement[bool]):  # noqa: N801 - reads as the SQL function it is
    """Whether a JSON array column holds a string element equal to a value, exactly (case
    and all). A LIKE over the array's JSON text would not do: SQLite's LIKE ignores the case
    of ASCII letters, PostgreSQL's does not. ``json_array_has(column, literal(text))``."""

    type = Boolean()
    name = "json_array_has"
    inherit_cache = True


@compiles(json_array_has)
def _json_array_has(element: json_array_has, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({column} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT)))"


@compiles(json_array_has, "sqlite")
def _json_array_has_sqlite(element: json_array_has, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    # json_each's value is the element as SQL text (a string element unquoted).
    return (f"EXISTS (SELECT 1 FROM json_each({column}) AS element "
            f"WHERE element.type = 'text' AND element.value = {value})")

