"""Locks that serialize transactions working on the same thing (one receipt, say) when no row
exists yet that they could lock."""

from __future__ import annotations

from sqlalchemy import text

from affsrv.extensions import db


def lock_until_commit(name: str, key: str) -> None:
    """Wait until no other transaction holds the lock ``(name, key)``, then hold it until this
    session's transaction ends.

    PostgreSQL: a transaction-level advisory lock on the two names' hashes (two keys that share
    a hash only wait for each other, needlessly but harmlessly). SQLite runs one writing
    transaction at a time, and what a transaction reads after its first write comes after every
    commit before it: callers write first (an insert, flushed) and read after, and need no
    more."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name), hashtext(:key))"),
                           {"name": name, "key": key})
