"""SQL functions whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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
