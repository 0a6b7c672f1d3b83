"""Telling a database that cannot be used at all from a statement that went wrong."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

# PostgreSQL's SQLSTATE for a table that does not exist: the schema is not made yet.
_UNDEFINED_TABLE = "42P01"


def database_unusable(exc: DBAPIError) -> bool:
    """Whether ``exc`` says the database cannot serve at all: unreachable, refusing the login,
    or without affsrv's schema (a command run before ``affsrv db upgrade``; SQLite reports that
    as an operational error, PostgreSQL as a programming error)."""
    if isinstance(exc, OperationalError):
        return True
    return getattr(exc.orig, "sqlstate", None) == _UNDEFINED_TABLE
