"""Referral links: each referring URL is stored once (``referral_links``) and clicks name it by
id. A link row never changes once written, so each worker keeps what it has learnt both ways,
a URL's id (for writing clicks) and an id's URL (for the ``referrals`` op), and asks the
database only about links it has not seen yet."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

from cachetools import LRUCache
from flask import current_app
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from affsrv.db.types import utcnow
from affsrv.tracking.models import ReferralLink


def _digest(url: str) -> bytes:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()


_L = ReferralLink.__table__.c
_LINKS_BY_DIGEST = select(_L.id, _L.digest).where(
    _L.digest.in_(bindparam("digests", expanding=True))
)
_URLS_BY_ID = select(_L.id, _L.url).where(_L.id.in_(bindparam("ids", expanding=True)))


class ReferralLinks:
    """The referral links one app has learnt (up to ``maxsize`` each way)."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self._ids: LRUCache[str, int] = LRUCache(maxsize=maxsize)
        # A plain dict, read without the lock: the `referrals` op looks up dozens of ids per
        # call, and an LRU would do its bookkeeping on every one. Emptied when full (links are
        # few next to clicks; a miss costs one query).
        self._urls: dict[int, str] = {}
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def lookup(self, connection: Connection, urls: Iterable[str]) -> dict[str, int]:
        """The id of each URL, adding the links not stored yet in ``connection``'s transaction.
        Pass the answer to ``remember`` once that transaction has committed (an id learnt in a
        transaction that rolled back names no row)."""
        found: dict[str, int] = {}
        missing: dict[bytes, str] = {}
        with self._lock:
            for url in set(urls):
                known = self._ids.get(url)
                if known is None:
                    missing[_digest(url)] = url
                else:
                    found[url] = known
        if missing:
            # Sorted: concurrent writers take the unique index's locks in one order (no
            # deadlock between two workers adding the same new links).
            digests = sorted(missing)
            statement = (
                pg_insert(ReferralLink) if connection.dialect.name == "postgresql"
                else sqlite_insert(ReferralLink)
            )
            now = utcnow()
            connection.execute(
                statement.on_conflict_do_nothing(index_elements=["digest"]),
                [{"digest": d, "url": missing[d], "created_at": now} for d in digests],
            )
            for link_id, digest in connection.execute(_LINKS_BY_DIGEST, {"digests": digests}):
                found[missing[bytes(digest)]] = link_id
        return found

    def remember(self, ids: dict[str, int]) -> None:
        with self._lock:
            for url, link_id in ids.items():
                self._ids[url] = link_id
            self._learn_urls({link_id: url for url, link_id in ids.items()})

    def urls(self, connection: Connection, ids: Iterable[int]) -> dict[int, str]:
        """The URL of each link id (ids read from committed clicks, so every one names a
        row)."""
        known = self._urls
        found = {link_id: known.get(link_id) for link_id in ids}
        missing = [link_id for link_id, url in found.items() if url is None]
        if missing:
            # Rare (a worker's first sight of a link): SQLAlchemy's own path, which expands
            # the IN list.
            learnt = {link_id: url for link_id, url in connection.execute(
                _URLS_BY_ID, {"ids": missing})}
            with self._lock:
                self._learn_urls(learnt)
            found.update(learnt)
        return found  # type: ignore[return-value]

    def _learn_urls(self, urls: dict[int, str]) -> None:
        if len(self._urls) + len(urls) > self._maxsize:
            self._urls = {}
        self._urls.update(urls)


def referral_links() -> ReferralLinks:
    """The running app's referral links."""
    return current_app.extensions["referral_links"]
