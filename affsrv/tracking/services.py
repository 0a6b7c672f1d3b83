"""Recording clicks and resolving landing links.

The landing link is the hottest path, so it finds affiliates and products in the worker's
in-memory directories (``affsrv.directory``) and hands its click to a per-process buffer that
a background thread writes in batches (``[tracking] click_flush_ms``; 0 writes each click
before answering). A hard crash of a worker loses at most the clicks of the last flush
interval (or ``click_flush_max`` clicks); a normal stop writes them. Commissions are never buffered.
"""

from __future__ import annotations

import atexit
import hashlib
import ipaddress
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from cachetools import LRUCache
from flask import Flask, current_app
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from affsrv.affiliates.directory import find_affiliate
from affsrv.affiliates.models import Affiliate
from affsrv.db.bulk import append_rows
from affsrv.db.reads import all_rows
from affsrv.db.types import utcnow
from affsrv.errors import Forbidden
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.products.directory import ProductRef, find_product
from affsrv.products.models import Product
from affsrv.settings import settings
from affsrv.tracking.models import Click, ReferralLink

MAX_LINK = 2048
MAX_AGENT = 512
# The columns the click buffer writes, in this order (it holds the link's URL until then).
CLICK_COLUMNS = ("affiliate_id", "product_id", "link_id", "ip", "user_agent", "created_at")


def _product_of(raw_id: str | None) -> ProductRef | None:
    """The product a landing link's ``?p=`` names, if it is an id that exists."""
    if not raw_id or not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 9:
        return None
    return find_product(int(raw_id))


def is_self_referral(affiliate_ip: str, visitor_ip: str | None) -> bool:
    return bool(affiliate_ip) and bool(visitor_ip) and affiliate_ip == visitor_ip


@lru_cache(maxsize=4096)
def _url_around_param(url: str, name: str) -> tuple[str, str]:
    """``url`` split around a query parameter ``name`` appended last (without any earlier
    ``name``): what goes before its value and what after. Landing URLs are few (products'
    and the default), so this is parsed once per URL, not per click."""
    parts = urlsplit(url)
    kept = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    )
    head = urlunsplit(parts._replace(query="", fragment=""))
    before = f"{head}?{kept}&" if kept else f"{head}?"
    after = f"#{parts.fragment}" if parts.fragment else ""
    return before + quote_plus(name) + "=", after


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` set in its query string (replacing an earlier value)."""
    before, after = _url_around_param(url, name)
    return before + quote_plus(value) + after


def normalise_ip(raw: str | None) -> str:
    if not raw:
        return ""
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""


@dataclass(frozen=True)
class Landing:
    """Where to send the visitor and, when the click counts, the code for the cookie."""

    url: str
    cookie_code: str | None


def resolve_landing(
    code: str, product_param: str | None, link: str, ip: str, user_agent: str
) -> Landing:
    """Decide the redirect for ``/r/<code>`` and record the click when it counts."""
    config = current_app.config["AFFSRV"]  # once, not per setting: this runs on every click
    tracking = config["tracking"]
    product = _product_of(product_param)
    target = tracking["default_url"]
    if product is not None and product.enabled:
        target = product.landing_url
    affiliate = find_affiliate(code)
    reason = (
        "unknown affiliate code" if affiliate is None
        else affiliate.refusal(config["affiliates"]["require_approval"])
    )
    if reason:
        get_log("referral").warning("landing refused", reason=reason, code=code[:64], ip=ip)
        return Landing(tracking["default_url"], None)
    if product_param and product is None:
        get_log("referral").warning(
            "landing for unknown product", code=code, product=product_param[:32]
        )
    if not config["commissions"]["allow_self_referral"] and is_self_referral(affiliate.ip, ip):
        get_log("referral").warning("self-referral not counted", code=code, ip=ip)
        return Landing(with_param(target, tracking["param"], affiliate.code), None)
    current_app.extensions["click_buffer"].add(
        (
            affiliate.id,
            product.id if product is not None else None,
            link[:MAX_LINK],
            ip,
            user_agent[:MAX_AGENT],
            utcnow(),
        )
    )
    return Landing(with_param(target, tracking["param"], affiliate.code), affiliate.code)


def record_referral(
    affiliate: Affiliate, product: Product | None, link: str, ip: str, user_agent: str = ""
) -> Click:
    """The referral call of the JSON API: write one click now and return it."""
    if (
        not settings("commissions")["allow_self_referral"]
        and is_self_referral(affiliate.ip, ip)
    ):
        raise Forbidden("self-referral refused: the visitor's IP is the affiliate's own IP")
    url = (link or "")[:MAX_LINK]
    link_ids = referral_link_ids()
    ids = link_ids.lookup(db.session.connection(), [url])
    click = Click(
        affiliate_id=affiliate.id,
        product_id=product.id if product is not None else None,
        link_id=ids[url],
        ip=ip,
        user_agent=user_agent[:MAX_AGENT],
    )
    db.session.add(click)
    db.session.commit()
    link_ids.remember(ids)
    return click


def _digest(url: str) -> bytes:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()


_L = ReferralLink.__table__.c
_LINKS_BY_DIGEST = select(_L.id, _L.digest).where(
    _L.digest.in_(bindparam("digests", expanding=True))
)


class ReferralLinkIds:
    """The ids of referral links, as one app has learnt them. A link row never changes once
    written, so each worker asks the database for a URL's id once (up to ``maxsize`` URLs)."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self._ids: LRUCache[str, int] = LRUCache(maxsize=maxsize)
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


def referral_link_ids() -> ReferralLinkIds:
    return current_app.extensions["referral_link_ids"]


def _referrals_statement(by_product: bool) -> Any:
    c = Click.__table__.c  # Core columns: no ORM compile step on the hot path
    # Counted by link id from the clicks' index alone, then joined to the few links found.
    counts = (
        select(c.product_id, c.link_id, func.count().label("n"))
        .where(c.affiliate_id == bindparam("affiliate_id"))
        .group_by(c.product_id, c.link_id)
    )
    if by_product:
        counts = counts.where(c.product_id == bindparam("product_id"))
    counts = counts.subquery()
    return (
        select(counts.c.product_id, _L.url, counts.c.n)
        .join_from(counts, ReferralLink.__table__, _L.id == counts.c.link_id)
        .order_by(counts.c.product_id, _L.url)
    )


# Built once (the Data API asks for it on every `referrals` call).
_REFERRALS = _referrals_statement(by_product=False)
_REFERRALS_FOR_PRODUCT = _referrals_statement(by_product=True)


def referral_rows(
    affiliate_id: int, product_id: int | None = None, connection: Connection | None = None
) -> list[tuple[int | None, str, int]]:
    """(product id, link, clicks) per product and referring link, ordered by both."""
    conn = connection or db.session.connection()
    # Dozens of rows of plain ints and strings: fetched as tuples, no per-row processing.
    if product_id is None:
        return all_rows(conn, _REFERRALS, {"affiliate_id": affiliate_id}, named=False)
    return all_rows(
        conn, _REFERRALS_FOR_PRODUCT, {"affiliate_id": affiliate_id, "product_id": product_id},
        named=False,
    )


def referral_stats(
    affiliate_id: int, product_id: int | None = None, connection: Connection | None = None
) -> dict[str, Any]:
    """Click counts per referring link, per product (the Data API's `referrals`)."""
    stats: dict[str, Any] = {}
    for pid, link, count in referral_rows(affiliate_id, product_id, connection):
        key = "0" if pid is None else str(pid)  # "0": clicks that named no product
        stats.setdefault(key, {"referrers": []})["referrers"].append(
            {"count": count, "link": link}
        )
    return stats


class ClickBuffer:
    """Collects one app's landing clicks and writes them in batches from a background thread
    (one per process: a forked gunicorn worker starts its own on its first click)."""

    def __init__(self, app: Flask, interval_ms: int, max_rows: int) -> None:
        self._app = app
        self._interval = interval_ms / 1000
        self._max_rows = max_rows
        self._rows: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._pid: int | None = None

    def add(self, row: tuple[Any, ...]) -> None:
        if self._interval <= 0:
            self._write([row])
            return
        self._ensure_thread()
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= self._max_rows
        if full:
            self._wake.set()

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._rows = []  # rows copied from a parent process are the parent's to write
        threading.Thread(target=self._run, name="click-flusher", daemon=True).start()
        atexit.register(self.stop)

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Write every waiting click now; the number written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        with self._app.app_context():
            try:
                self._write(rows)
            except Exception:  # the database is down: keep the clicks for the next flush
                get_log("referral").exception("click flush failed", clicks=len(rows))
                with self._lock:
                    self._rows = (rows + self._rows)[-10 * self._max_rows:]
                return 0
        return len(rows)

    def stop(self) -> None:
        """Stop the thread and write what is waiting (a worker's normal exit)."""
        self._stopped.set()
        self._wake.set()
        self.flush()

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        link_ids = self._app.extensions["referral_link_ids"]
        with db.engine.begin() as connection:
            ids = link_ids.lookup(connection, [row[2] for row in rows])
            append_rows(
                connection, Click.__table__, CLICK_COLUMNS,
                [(a, p, ids[link], ip, agent, at) for a, p, link, ip, agent, at in rows],
            )
        link_ids.remember(ids)


def init_click_buffer(app: Flask) -> None:
    tracking = app.config["AFFSRV"]["tracking"]
    app.extensions["click_buffer"] = ClickBuffer(
        app, tracking["click_flush_ms"], tracking["click_flush_max"]
    )
    app.extensions["referral_link_ids"] = ReferralLinkIds()
