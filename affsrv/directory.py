"""Per-worker, in-memory directories of the rows the hot paths look up by key (affiliates by
code, products by id), so a landing link or a Data API call does not query for them.

A directory loads its whole table on first use (100,000 affiliates take about 31 MB per
worker). After that, one lookup every ``refresh_seconds`` (``[server]
cache_seconds``) first asks the database for what changed: the rows whose ``updated_at`` is at
or after the newest one seen, less ``overlap_seconds`` (so a row written by a transaction that
committed late, or by a host whose clock is a little behind, is still picked up), or the whole
table again when the source has no ``updated_at``. So a change made anywhere reaches every
worker within ``refresh_seconds``. A key the directory does not hold is looked up in the
database (a row added since the last refresh is found at once); keys found nowhere are
remembered as missing for ``refresh_seconds``. ``refresh_seconds <= 0`` turns the directory
off: every lookup goes to the database.

If a refresh fails (the database is unreachable), the directory keeps answering from what it
has and tries again on the next lookup after ``refresh_seconds``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import Column, bindparam, select
from sqlalchemy.exc import SQLAlchemyError

from affsrv.db.reads import one_row, run_read
from affsrv.logs import get_log


class Entry(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def updated_at(self) -> datetime | None: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Entry)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DirectorySource(Generic[K, V]):
    """Where a directory's entries come from."""

    key: Callable[[V], K]
    load_all: Callable[[], list[V]]
    load_one: Callable[[K], V | None]
    # Entries with ``updated_at >= since``; None: the table is small, reload it whole.
    load_changed: Callable[[datetime], list[V]] | None = None


def table_source(
    columns: tuple[Column, ...],
    key_column: Column,
    make: Callable[[tuple], V],
    key: Callable[[V], K],
    changes_by_updated_at: bool = True,
) -> DirectorySource[K, V]:
    """A source reading ``columns`` of one table (``make`` turns a row into an entry): all
    rows, one row by ``key_column``, and (unless the table is small enough to reload whole)
    the rows whose ``updated_at`` column is at or after a time."""
    every = select(*columns)
    by_key = every.where(key_column == bindparam("key"))

    def load_all() -> list[V]:
        return run_read(lambda conn: [make(row) for row in conn.execute(every)])

    def load_one(wanted: K) -> V | None:
        row = run_read(lambda conn: one_row(conn, by_key, {"key": wanted}))
        return None if row is None else make(row)

    def load_changed(since: datetime) -> list[V]:
        changed = every.where(key_column.table.c.updated_at >= since)
        return run_read(lambda conn: [make(row) for row in conn.execute(changed)])

    return DirectorySource(
        key=key, load_all=load_all, load_one=load_one,
        load_changed=load_changed if changes_by_updated_at else None,
    )


class Directory(Generic[K, V]):
    """One app's in-memory copy of a table's hot columns (see the module's docstring)."""

    def __init__(
        self,
        source: DirectorySource[K, V],
        refresh_seconds: float,
        overlap_seconds: float = 60.0,
        max_missing: int = 10_000,
    ) -> None:
        self._source = source
        self._refresh_seconds = refresh_seconds
        self._overlap = timedelta(seconds=overlap_seconds)
        self._entries: dict[K, V] = {}
        self._key_by_id: dict[int, K] = {}
        self._newest: datetime | None = None
        self._loaded = False
        self._next_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._missing_lock = threading.Lock()
        self._missing: TTLCache[K, bool] | None = (
            TTLCache(maxsize=max_missing, ttl=refresh_seconds) if refresh_seconds > 0 else None
        )

    def get(self, key: K) -> V | None:
        """The entry for ``key``, or None if there is none."""
        if self._missing is None:
            return self._source.load_one(key)
        if time.monotonic() >= self._next_refresh:
            self._refresh()
        entry = self._entries.get(key)
        if entry is not None:
            return entry
        with self._missing_lock:
            if key in self._missing:
                return None
        entry = self._source.load_one(key)
        if entry is None:
            with self._missing_lock:
                self._missing[key] = True
        else:
            self._put(entry)
        return entry

    def __len__(self) -> int:
        return len(self._entries)

    def _refresh(self) -> None:
        # One thread refreshes; the others go on with the entries as they are.
        if not self._refresh_lock.acquire(blocking=False):
            if self._loaded:
                return
            self._refresh_lock.acquire()  # the first load: wait for it rather than miss
        try:
            if time.monotonic() < self._next_refresh:
                return  # another thread has just done it
            try:
                self._apply_changes()
            except SQLAlchemyError:
                if not self._loaded:
                    raise  # nothing to answer from: the request fails (503) as a query would
                get_log("general").exception("directory refresh failed; retrying later")
            self._next_refresh = time.monotonic() + self._refresh_seconds
        finally:
            self._refresh_lock.release()

    def _apply_changes(self) -> None:
        source = self._source
        if not self._loaded or source.load_changed is None:
            entries = source.load_all()
            self._entries = {source.key(e): e for e in entries}
            self._key_by_id = {e.id: source.key(e) for e in entries}
            self._newest = max((e.updated_at for e in entries if e.updated_at), default=None)
            self._loaded = True
        else:
            since = _EPOCH if self._newest is None else self._newest - self._overlap
            for entry in source.load_changed(since):
                self._put(entry)
                # Only what a refresh read moves the mark: a row found by a lookup may be
                # newer than changes to other rows that no refresh has read yet.
                if entry.updated_at is not None and (
                    self._newest is None or entry.updated_at > self._newest
                ):
                    self._newest = entry.updated_at

    def _put(self, entry: V) -> None:
        key = self._source.key(entry)
        old_key = self._key_by_id.get(entry.id)
        if old_key is not None and old_key != key:
            self._entries.pop(old_key, None)  # the row's key changed (a renamed code)
        self._entries[key] = entry
        self._key_by_id[entry.id] = key


def app_directory(name: str, source: DirectorySource[K, V]) -> Directory[K, V]:
    """The running app's directory ``name`` of ``source`` (made on first use, refreshed every
    ``[server] cache_seconds``)."""
    extensions = current_app.extensions
    found = extensions.get(name)
    if found is None:
        refresh = current_app.config["AFFSRV"]["server"]["cache_seconds"]
        found = extensions.setdefault(name, Directory(source, refresh))
    return found
