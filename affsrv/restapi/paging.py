"""Lists come 100 to a page; the ``Page`` request header picks the page (default 1); the
answer is ``206 Partial Content`` while more rows remain and ``200`` on the last page.

Pages are read by keyset, never by ``OFFSET`` over whole rows. Clients ask for page N by
number, so N's first row has to be found:

1. Each worker remembers, per query (the endpoint and its normalised parameters), the key
   ``(transaction_time, id)`` of the last row of the pages it served (the 64 most recent),
   for 15 minutes. A client walking pages 1, 2, 3, ... (which is how ClickBank clients page:
   until the answer is 200) gets page N by
   ``WHERE (transaction_time, id) > key-of-page-(N-1) ORDER BY ... LIMIT 101``: an index range
   read of 101 entries, however deep. With several workers, a worker that served
   page N-2 but not N-1 starts from N-2's key and steps over 100 index entries.
2. A page with no remembered page before it (a client jumping straight to page 5,000) steps over
   the preceding rows *in the index only*: ``SELECT transaction_time, id ... OFFSET k LIMIT 1``
   reads just the (narrow, covering) index, not the table rows, then fetches the page by keyset.

``bench/deep_paging.py`` measures both on a million orders (numbers in the README).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable, Sequence
from typing import Any

from cachetools import TTLCache
from flask import request
from sqlalchemy import ColumnElement, Select, func, literal, tuple_

from affsrv.extensions import db
from affsrv.restapi.errors import bad_request

_DIGITS = re.compile(r"^[0-9]+\Z")
PAGE_SIZE = 100
MAX_PAGE = 10_000_000
CURSOR_SECONDS = 900

_lock = threading.Lock()
# Per query, the last-row keys of at most PAGES_KEPT recently served pages (a walking client
# needs only the previous one): memory stays bounded whatever clients do.
QUERIES_KEPT = 1000
PAGES_KEPT = 64
_cursors: TTLCache[Hashable, dict[int, tuple[Any, ...]]] = TTLCache(maxsize=QUERIES_KEPT,
                                                                    ttl=CURSOR_SECONDS)


def page_number() -> int:
    raw = request.headers.get("Page")
    if raw is None or raw.strip() == "":
        return 1
    text = raw.strip()
    if not _DIGITS.match(text) or len(text) > 8 or not 1 <= int(text) <= MAX_PAGE:
        raise bad_request(f"Page header: expected a page number from 1 to {MAX_PAGE}, "
                          f"got {raw[:40]!r}")
    return int(text)


def _after(keys: Sequence[ColumnElement[Any]], values: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(keys) == 1:
        return keys[0] > values[0]
    return tuple_(*keys) > tuple_(*(
        _typed(key, value) for key, value in zip(keys, values, strict=True)
    ))


def _typed(key: ColumnElement[Any], value: Any) -> Any:
    """A bound value with its column's type (so UTC times are stored-form on SQLite)."""
    return literal(value, type_=key.type)


def _remembered(query_key: Hashable, page: int) -> tuple[int, tuple[Any, ...] | None]:
    """The nearest page before ``page`` whose last key is known (0 and None: none)."""
    with _lock:
        known = _cursors.get(query_key)
        if not known:
            return 0, None
        before = [p for p in known if p < page]
        if not before:
            return 0, None
        best = max(before)
        return best, known[best]


def _remember(query_key: Hashable, page: int, key: tuple[Any, ...]) -> None:
    with _lock:
        known = _cursors.get(query_key)
        if known is None:
            known = {}
        known.pop(page, None)
        known[page] = key
        while len(known) > PAGES_KEPT:
            del known[next(iter(known))]  # the least recently stored
        _cursors[query_key] = known


def forget_all() -> None:
    """Drop every remembered page (tests, and after bulk changes)."""
    with _lock:
        _cursors.clear()


def keyset_page(query: Select[Any], keys: Sequence[ColumnElement[Any]], page: int,
                query_key: Hashable, size: int = PAGE_SIZE) -> tuple[list[Any], bool]:
    """Page ``page`` of ``query`` (a select of one entity, filtered, unordered) in ``keys``
    order; and whether more rows follow."""
    start_page, start_key = (0, None) if page == 1 else _remembered(query_key, page)
    skip = (page - 1 - start_page) * size
    boundary = start_key
    if skip:
        probe = query.with_only_columns(*keys).order_by(*keys)
        if start_key is not None:
            probe = probe.where(_after(keys, start_key))
        row = db.session.execute(probe.offset(skip - 1).limit(1)).first()
        if row is None:
            return [], False
        boundary = tuple(row)
        _remember(query_key, page - 1, boundary)
    fetch = query.order_by(*keys)
    if boundary is not None:
        fetch = fetch.where(_after(keys, boundary))
    rows = list(db.session.scalars(fetch.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if more:
        last = rows[-1]
        _remember(query_key, page, tuple(getattr(last, k.key) for k in keys))
    return rows, more


def count(query: Select[Any]) -> int:
    counted = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    return db.session.scalar(counted) or 0


def list_status(more: bool) -> int:
    return 206 if more else 200
