"""A connection for the read-only hot paths (landing-link lookups, the Data API's ops).

It is checked out of the same pool as the request's session but skips the ORM session (its
set-up and tear-down cost more than the query itself). On PostgreSQL it runs in autocommit
mode: a single SELECT needs no BEGIN and ROLLBACK round trips, and each statement still sees
only committed data. Nothing written through it: writes go through ``db.session``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from affsrv.extensions import db


@contextmanager
def read_connection() -> Iterator[Connection]:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection
