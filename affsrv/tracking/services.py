"""Recording clicks and resolving landing links.

The landing link is the hottest path, so it finds affiliates and products in the worker's
in-memory directories (``affsrv.directory``) and hands its click to a per-process buffer that
a background thread writes in batches (``[tracking] click_flush_ms``; 0 writes each click
before answering). A hard crash of a worker loses at most the clicks of the last flush
interval (or ``click_flush_max`` clicks); a normal stop writes them. Commissions are never buffered.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from flask import Flask, current_app
from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from affsrv.affiliates.directory import find_affiliate
from affsrv.affiliates.models import Affiliate, is_well_formed_code
from affsrv.backoff import backoff_seconds
from affsrv.db.bulk import add_counts, append_rows
from affsrv.db.errors import database_unusable
from affsrv.db.reads import all_rows
from affsrv.db.types import utcnow
from affsrv.errors import Forbidden
from affsrv.extensions import db
from affsrv.ipaddr import canonical_ip
from affsrv.logs import get_log
from affsrv.products.directory import ProductRef, find_product
from affsrv.products.models import Product
from affsrv.reports.rollups import roll_up_clicks
from affsrv.settings import settings
from affsrv.tracking.links import ReferralLinks, referral_links
from affsrv.tracking.models import Click, ClickCount

MAX_LINK = 2048
MAX_AGENT = 512
# The columns the click buffer writes, in this order (it holds the link's URL until then).
CLICK_COLUMNS = ("affiliate_id", "product_id", "link_id", "ip", "user_agent", "created_at")


def _storable(text: str, limit: int) -> str:
    """A header's text as a click stores it: cut to ``limit`` and without NUL characters. No
    database stores a NUL in text (PostgreSQL refuses it) and a batch that cannot be written is
    retried, so one such click must never reach the buffer. gunicorn refuses NUL in headers;
    other servers may pass it."""
    return text[:limit].replace("\x00", "")


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
    """The canonical form of an IP address, or "" for none or something else."""
    if not raw:
        return ""
    try:
        return canonical_ip(raw)
    except ValueError:
        return ""


@dataclass(frozen=True)
class Landing:
    """Where to send the visitor and, when the click counts, the code for the cookie."""

    url: str
    cookie_code: str | None


def resolve_landing(
    code: str, product_param: str | None, link: str, ip: str, user_agent: str,
    count: bool = True,
) -> Landing:
    """Decide the redirect for ``/r/<code>`` and record the click when it counts (never when
    ``count`` is false: a HEAD request, which asks what a GET would answer, changes nothing)."""
    config = current_app.config["AFFSRV"]  # once, not per setting: this runs on every click
    tracking = config["tracking"]
    try:
        product = _product_of(product_param)
        affiliate = find_affiliate(code)
    except DBAPIError as exc:
        if not database_unusable(exc):
            raise
        return _landing_without_database(code, tracking, ip)
    target = tracking["default_url"]
    if product is not None and product.enabled:
        target = product.landing_url
    if affiliate is None:
        reason = "unknown affiliate code" if code else "missing affiliate code"
    else:
        reason = affiliate.refusal(config["affiliates"]["require_approval"])
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
    if count:
        current_app.extensions["click_buffer"].add(
            (
                affiliate.id,
                product.id if product is not None else None,
                _storable(link, MAX_LINK),
                ip,
                _storable(user_agent, MAX_AGENT),
                utcnow(),
            )
        )
    return Landing(with_param(target, tracking["param"], affiliate.code), affiliate.code)


def _landing_without_database(code: str, tracking: dict[str, Any], ip: str) -> Landing:
    """Where a visitor goes when the database cannot say who ``code`` is (it is down, and this
    worker has not got the code in its directory): to the shop all the same, with a
    well-formed code in the landing parameter, as the nginx site file does while affsrv is
    down. Unchecked, so no cookie and no click."""
    get_log("referral").warning("landing not counted: database unavailable", code=code[:64],
                                ip=ip)
    if is_well_formed_code(code):
        return Landing(with_param(tracking["default_url"], tracking["param"], code), None)
    return Landing(tracking["default_url"], None)


def record_referral(
    affiliate: Affiliate, product: Product | None, link: str, ip: str, user_agent: str = ""
) -> Click:
    """The referral call of the JSON API: write one click now and return it."""
    if (
        not settings("commissions")["allow_self_referral"]
        and is_self_referral(affiliate.ip, ip)
    ):
        raise Forbidden("self-referral refused: the visitor's IP is the affiliate's own IP")
    url = _storable(link or "", MAX_LINK)
    links = referral_links()
    ids = links.lookup(db.session.connection(), [url])
    click = Click(
        affiliate_id=affiliate.id,
        product_id=product.id if product is not None else None,
        link_id=ids[url],
        ip=ip,
        user_agent=_storable(user_agent, MAX_AGENT),
    )
    db.session.add(click)
    db.session.flush()  # its time, set on insert, is what the reports count
    count_clicks(db.session.connection(), [(click.affiliate_id, click.product_id, click.link_id)])
    roll_up_clicks(db.session.connection(), [
        (click.affiliate_id, click.product_id, click.link_id, click.ip, click.created_at)])
    db.session.commit()
    links.remember(ids)
    return click


def count_clicks(connection: Connection, clicks: Iterable[tuple[int, int | None, int]]) -> None:
    """Add ``clicks`` (affiliate id, product id or None, link id) to their ``ClickCount`` rows,
    in the transaction that writes them."""
    counted = Counter((affiliate, product or 0, link) for affiliate, product, link in clicks)
    add_counts(connection, ClickCount.__table__, "clicks", counted)


def counts_from_clicks() -> Select[Any]:
    """``ClickCount``'s rows computed from the clicks (recount and check)."""
    product = func.coalesce(Click.product_id, 0)
    return select(Click.affiliate_id, product.label("product_id"), Click.link_id,
                  func.count().label("clicks")).group_by(
                      Click.affiliate_id, product, Click.link_id)


def recount_clicks(connection: Connection, shuffled: bool = False) -> int:
    """Rebuild ``ClickCount`` from the clicks (after clicks were deleted or loaded with SQL),
    in the caller's transaction; the number of rows made. ``shuffled`` adds them in random
    order, as traffic would (a b-tree filled in key order is packed full, and new rows then
    split a page nearly every time): for a benchmark's seeded database."""
    counted = counts_from_clicks()
    if shuffled:
        counted = select(counted.subquery()).order_by(func.random())
    connection.execute(delete(ClickCount))
    connection.execute(insert(ClickCount).from_select(
        ["affiliate_id", "product_id", "link_id", "clicks"], counted))
    # Counted again: psycopg reports no row count for INSERT ... SELECT.
    return connection.scalar(select(func.count()).select_from(ClickCount)) or 0


def _referral_counts_statement(by_product: bool) -> Any:
    c = ClickCount.__table__.c  # Core columns: no ORM compile step on the hot path
    # One row per product and link; the links' URLs come from the worker's ReferralLinks.
    counts = select(c.product_id, c.link_id, c.clicks).where(
        c.affiliate_id == bindparam("affiliate_id")
    )
    if by_product:
        counts = counts.where(c.product_id == bindparam("product_id"))
    return counts


# Built once (the Data API asks for it on every `referrals` call).
_REFERRAL_COUNTS = _referral_counts_statement(by_product=False)
_REFERRAL_COUNTS_FOR_PRODUCT = _referral_counts_statement(by_product=True)


def referral_stats(
    affiliate_id: int, product_id: int | None = None, connection: Connection | None = None
) -> list[tuple[int, str, int]]:
    """Click counts per referring link, per product (the Data API's `referrals`): rows of
    ``(product id, link, clicks)`` ordered by product, then link, with 0 as the product of
    clicks that named none (so they come first)."""
    conn = connection or db.session.connection()
    # Dozens of rows of plain ints: fetched as tuples, no per-row processing.
    if product_id is None:
        counts = all_rows(conn, _REFERRAL_COUNTS, {"affiliate_id": affiliate_id}, named=False)
    else:
        counts = all_rows(
            conn, _REFERRAL_COUNTS_FOR_PRODUCT,
            {"affiliate_id": affiliate_id, "product_id": product_id}, named=False,
        )
    urls = referral_links().urls(conn, {link_id for _, link_id, _ in counts})
    # Plain tuples sort without a key function; product ids start at 1.
    return sorted((pid, urls[link_id], n) for pid, link_id, n in counts)


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
        self._failures = 0  # consecutive failed writes

    @property
    def waiting(self) -> int:
        """Clicks received and not written yet (this process's)."""
        with self._lock:
            return len(self._rows)

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
            if self._failures:
                # Back off while writes fail (the database is down): a full buffer does not
                # cut the wait short, or every landing would be another failed write.
                self._stopped.wait(backoff_seconds(self._interval, self._failures))
            else:
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
                self._failures += 1
                get_log("referral").exception("click flush failed", clicks=len(rows),
                                              failures=self._failures)
                with self._lock:
                    self._rows = (rows + self._rows)[-10 * self._max_rows:]
                return 0
        self._failures = 0
        return len(rows)

    def stop(self) -> None:
        """Stop the thread and write what is waiting (a worker's normal exit)."""
        self._stopped.set()
        self._wake.set()
        self.flush()

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        links = self._app.extensions["referral_links"]
        with db.engine.begin() as connection:
            ids = links.lookup(connection, [row[2] for row in rows])
            clicks = [(a, p, ids[link], ip, agent, at) for a, p, link, ip, agent, at in rows]
            append_rows(connection, Click.__table__, CLICK_COLUMNS, clicks)
            count_clicks(connection, (click[:3] for click in clicks))
            roll_up_clicks(connection, ((a, p, link, ip, at)
                                        for a, p, link, ip, _, at in clicks))
        links.remember(ids)


def init_click_buffer(app: Flask) -> None:
    tracking = app.config["AFFSRV"]["tracking"]
    app.extensions["click_buffer"] = ClickBuffer(
        app, tracking["click_flush_ms"], tracking["click_flush_max"]
    )
    app.extensions["referral_links"] = ReferralLinks()
