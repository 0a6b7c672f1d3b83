"""Keeping the reports' rollups (``affsrv.reports.models``): what each write adds, and the
recount and check that rebuild or compare them from the stored rows.

Each write path makes one call here, inside its own transaction: ClickBank intake
``roll_up_order``, the click writer ``roll_up_clicks``, and commissions (the Data API's and
ClickBank's) through the ``commission_recorded`` / ``commission_reversed`` events. The same
functions turn stored rows into the same facts for ``rebuild_rollups`` and ``compare_rollups``,
so a recount adds exactly what the writes added.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

import iptocc
from sqlalchemy import Connection, Table, and_, case, delete, func, select

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.db.bulk import add_counts, add_sums, pipelined
from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem
from affsrv.reports.models import (
    CLICK_ROLLUPS,
    DAY,
    DAY_SECONDS,
    HOUR,
    HOUR_SECONDS,
    MINUTE,
    MINUTE_SECONDS,
    MONTH,
    QUARTER,
    QUARTER_SECONDS,
    SALES_MEASURES,
    SALES_ROLLUPS,
    YEAR,
    Rollup,
)
from affsrv.signals import commission_recorded, commission_reversed
from affsrv.tracking.models import Click

#: ClickBank transaction types and the figure each adds to (others, and tests, add nothing).
ORDER_TYPES = {"SALE": "sale", "BILL": "sale", "RFND": "refund", "CGBK": "chargeback",
               "INSF": "chargeback"}
_WIDTHS = {"account": 64, "product": 64, "affiliate": 64, "method": 32, "country": 2,
           "state": 100, "postal": 20, "currency": 3}
_ZERO = Decimal("0.00")
_CHUNK = 5000


def country_of_ip(ip: str | None) -> str:
    """The country (ISO 3166 alpha-2) an IP address is registered to, from the offline table
    the ``iptocc`` package ships; "" for none, a private address or not an address."""
    if not ip:
        return ""
    try:
        return iptocc.country_code(ip) or ""
    except (TypeError, ValueError):
        return ""


@dataclass
class SaleFact:
    """What one transaction adds to the sales rollups, at its moment ``at`` (UTC)."""

    at: datetime
    account: str = ""
    product: str = ""
    affiliate: str = ""
    method: str = ""
    country: str = ""
    state: str = ""
    postal: str = ""
    currency: str = ""
    orders: int = 0
    gross: Decimal = _ZERO
    refunds: int = 0
    refund_amount: Decimal = _ZERO
    chargebacks: int = 0
    chargeback_amount: Decimal = _ZERO
    commissions: Decimal = _ZERO

    def __post_init__(self) -> None:
        for name, width in _WIDTHS.items():
            value = (getattr(self, name) or "").strip()[:width]
            setattr(self, name, value.upper() if name in {"country", "currency"} else value)


class ClickFact(NamedTuple):
    """One click, as the click rollups count it (a tuple: the writer makes thousands)."""

    at: datetime
    affiliate_id: int
    product_id: int
    link_id: int
    country: str = ""


#: A ``ClickFact``'s dimensions by name, as positions after ``at``; the grains' positions in
#: ``click_rows``'s buckets.
_CLICK_DIMENSION_INDEX = {d: i for i, d in enumerate(ClickFact._fields[1:])}
_GRAIN_INDEX = {QUARTER: 0, HOUR: 1, DAY: 2, MONTH: 3, YEAR: 4}
_DIMENSIONS_AT = len(_GRAIN_INDEX)


def _key_picker(rollup: Rollup) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function taking a click rollup's key (in its primary key's order) from
    ``click_rows``'s row (five buckets, then the dimensions): ``itemgetter`` of the positions,
    always giving a tuple."""
    positions = [_GRAIN_INDEX[rollup.grain] if d == "bucket"
                 else _DIMENSIONS_AT + _CLICK_DIMENSION_INDEX[d] for d in rollup.key]
    if len(positions) == 1:  # itemgetter of one position gives the value, not a tuple
        return lambda row, at=positions[0]: (row[at],)
    return itemgetter(*positions)


#: Each click rollup's table name and key picker, worked out once.
_CLICK_KEY_PICKERS = [(r.table.name, _key_picker(r)) for r in CLICK_ROLLUPS]


def _seconds(at: datetime) -> int:
    if at.tzinfo is None:  # a naive time read back from SQLite is UTC
        at = at.replace(tzinfo=UTC)
    return math.floor(at.timestamp())


_GRAIN_SECONDS = {DAY: DAY_SECONDS, HOUR: HOUR_SECONDS, MINUTE: MINUTE_SECONDS}


def bucket_of(seconds: int, grain: str) -> int:
    """The bucket of a rollup of ``grain`` holding Unix second ``seconds``."""
    if grain == MONTH:
        at = datetime.fromtimestamp(seconds, UTC)
        return (at.year - 1970) * 12 + at.month - 1
    if grain == YEAR:
        return datetime.fromtimestamp(seconds, UTC).year - 1970
    return seconds // _GRAIN_SECONDS.get(grain, QUARTER_SECONDS)


def week_quarter_of(seconds: int) -> int:
    """The quarter hour of the UTC week (Monday 00:00 UTC is 0) holding Unix second
    ``seconds``; 1970-01-01 was a Thursday."""
    quarter = seconds // QUARTER_SECONDS
    return ((quarter // 96 + 3) % 7) * 96 + quarter % 96


def _add_figure(fact: SaleFact, kind: str, amount: Decimal) -> None:
    if kind == "sale":
        fact.orders, fact.gross = 1, amount
    elif kind == "refund":
        fact.refunds, fact.refund_amount = 1, amount
    else:
        fact.chargebacks, fact.chargeback_amount = 1, amount


# --- facts of stored rows --------------------------------------------------------------------

def _order_fact(values: dict[str, Any]) -> SaleFact | None:
    """The fact of one ClickBank transaction (``values`` as ``_ORDER_COLUMNS`` reads them)."""
    kind = ORDER_TYPES.get(values["transaction_type"])
    if kind is None or values["is_test"]:
        return None
    billing = bool(values["billing_country"])
    amount = values["total_order_amount"]
    if amount is None:
        amount = values["total_account_amount"]
    fact = SaleFact(
        at=values["transaction_time"], account=values["account"],
        product=values["product"] or "", affiliate=values["affiliate"] or "",
        method=values["payment_method"],
        country=values["billing_country"] if billing else values["shipping_country"],
        state=values["billing_state"] if billing else values["shipping_state"],
        postal=values["billing_postal_code"] if billing else values["shipping_postal_code"],
        currency=values["currency"],
    )
    _add_figure(fact, kind, abs(amount) if amount is not None else _ZERO)
    return fact


def _commission_facts(values: dict[str, Any], shop_account: str) -> list[SaleFact]:
    """What one sale commission adds (and takes back when reversed): the commission at the
    moment it was recorded, minus it at the moment it was reversed. A shop's (Data API)
    commission is also the sale itself (an order, or a refund or chargeback when reversed),
    placed by its IP; a ClickBank commission takes the places of its order (``values``
    carries them), whose transaction counts the sale."""
    from_shop = values["source"] != "clickbank"
    dims = {
        "product": str(values["product_id"]),
        "affiliate": values["affiliate_code"] or "",
        "currency": values["currency"],
    }
    if from_shop:
        dims.update(account=shop_account, country=country_of_ip(values["ip"]))
    else:
        dims.update(account=values["order_account"] or "", method=values["order_method"] or "",
                    country=values["order_country"] or "", state=values["order_state"] or "",
                    postal=values["order_postal"] or "")
    recorded = SaleFact(at=values["created_at"], commissions=values["commission_total"], **dims)
    if from_shop:
        _add_figure(recorded, "sale", values["sale_total"])
    facts = [recorded]
    reversed_at = values["reversed_at"]
    if reversed_at is not None:
        taken_back = SaleFact(at=reversed_at, commissions=-values["commission_total"], **dims)
        if from_shop:
            _add_figure(taken_back, values["reversal_reason"] or "refund", values["sale_total"])
        facts.append(taken_back)
    return facts


# --- hooks on the write paths ----------------------------------------------------------------

def roll_up_order(order: Order) -> None:
    """Add a newly stored ClickBank transaction to the rollups, in its transaction."""
    first = order.line_items[0] if order.line_items else None
    affiliate = db.session.get(Affiliate, order.affiliate_id) if order.affiliate_id else None
    values = {name: getattr(order, name) for name in _ORDER_FIELDS}
    values["product"] = _product_key(first.product_id, first.item_no) if first else ""
    values["affiliate"] = affiliate.code if affiliate else order.affiliate_nickname
    fact = _order_fact(values)
    if fact is not None:
        add_sale_facts(db.session.connection(), [fact])


def roll_up_clicks(connection: Connection, clicks: Iterable[tuple[Any, ...]]) -> None:
    """Add written clicks ``(affiliate id, product id or None, link id, ip, time)`` to the
    rollups, in the transaction that writes them; their countries are looked up here, off the
    landing link's request path."""
    clicks = list(clicks)
    countries = iptocc.country_code([ip or "" for _, _, _, ip, _ in clicks]) if clicks else []
    add_click_facts(connection, [
        ClickFact(at, affiliate, product or 0, link, country or "")
        for (affiliate, product, link, _, at), country in zip(clicks, countries, strict=True)
    ])


def _commission_values(sale: Commission, reversed_at: datetime | None) -> dict[str, Any]:
    affiliate = db.session.get(Affiliate, sale.affiliate_id)
    values: dict[str, Any] = {
        "source": sale.source, "product_id": sale.product_id,
        "affiliate_code": affiliate.code if affiliate else "", "currency": sale.currency,
        "ip": sale.ip, "created_at": sale.created_at, "commission_total": sale.commission_total,
        "sale_total": sale.sale_total, "reversal_reason": sale.reversal_reason,
        "reversed_at": reversed_at,
    }
    if sale.source == "clickbank":
        order = db.session.connection().execute(
            _clickbank_order_places(sale.affiliate_id, sale.order_ref or "")
        ).first()
        values.update(order._asdict() if order is not None else dict.fromkeys(_PLACES))
    return values


def _on_commission_recorded(commission: Commission, **_: Any) -> None:
    facts = _commission_facts(_commission_values(commission, None), _shop_account())
    add_sale_facts(db.session.connection(), facts)


def _on_commission_reversed(sale: Commission, reversal: Commission | None = None,
                            **_: Any) -> None:
    reversed_at = reversal.created_at if reversal is not None else sale.updated_at
    facts = _commission_facts(_commission_values(sale, reversed_at), _shop_account())
    add_sale_facts(db.session.connection(), facts[1:])  # only what the reversal takes back


commission_recorded.connect(_on_commission_recorded)
commission_reversed.connect(_on_commission_reversed)


def _shop_account() -> str:
    from affsrv.settings import settings

    return settings("reports")["shop_account"]


# --- adding to the rollups -------------------------------------------------------------------

#: What ``_sale_fields`` gives for a fact, by name: its buckets at each grain, its quarter hour of
#: the week, its dimensions.
_SALE_GRAINS = (QUARTER, HOUR, DAY, MONTH, YEAR, MINUTE)
_SALE_FIELDS = ("week_quarter", "account", "product", "affiliate", "method", "country", "state",
                "postal", "currency")
_SALE_FIELD_INDEX = {name: i for i, name in enumerate((*_SALE_GRAINS, *_SALE_FIELDS))}


_fact_dimensions = attrgetter(*_SALE_FIELDS[1:])


def _sale_fields(fact: SaleFact) -> tuple[Any, ...]:
    second = _seconds(fact.at)
    return (*(bucket_of(second, grain) for grain in _SALE_GRAINS), week_quarter_of(second),
            *_fact_dimensions(fact))


def _sale_key_picker(rollup: Rollup) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function taking a sales rollup's key (in its primary key's order) from
    ``_sale_fields``'s tuple."""
    positions = [_SALE_FIELD_INDEX[rollup.grain if d == "bucket" else d] for d in rollup.key]
    return itemgetter(*positions)  # every sales rollup's key has two columns or more


_SALE_KEY_PICKERS = [(r.table.name, _sale_key_picker(r)) for r in SALES_ROLLUPS]


def sales_rows(facts: Iterable[SaleFact]) -> dict[str, dict[tuple[Any, ...], list[Any]]]:
    """``facts`` summed per rollup table and key (in the key's order, ``Rollup.key``)."""
    out: dict[str, dict[tuple[Any, ...], list[Any]]] = {}
    facts = list(facts)
    fields = [_sale_fields(fact) for fact in facts]
    figures = [[getattr(fact, m) for m in SALES_MEASURES] for fact in facts]
    for name, pick in _SALE_KEY_PICKERS:
        rows: dict[tuple[Any, ...], list[Any]] = {}
        for field, figure in zip(fields, figures, strict=True):
            key = pick(field)
            row = rows.get(key)
            if row is None:
                rows[key] = list(figure)
            else:
                for i, value in enumerate(figure):
                    row[i] += value
        out[name] = rows
    return out


def click_rows(facts: Iterable[ClickFact]) -> dict[str, Counter[tuple[Any, ...]]]:
    """``facts`` counted per click rollup table and key. The click writer calls this for every
    batch, so each fact's buckets are worked out once for all the tables and each table's keys
    are picked and counted by C code (``itemgetter``, ``Counter``)."""
    months: dict[int, tuple[int, int]] = {}
    rows = []
    for at, *values in facts:
        second = _seconds(at)
        day = second // DAY_SECONDS
        month_year = months.get(day)
        if month_year is None:
            month = bucket_of(second, MONTH)
            month_year = months[day] = (month, month // 12)  # years since 1970, as YEAR's
        rows.append((second // QUARTER_SECONDS, second // HOUR_SECONDS, day, *month_year,
                     *values))
    return {name: Counter(map(pick, rows)) for name, pick in _CLICK_KEY_PICKERS}


def add_sale_facts(connection: Connection, facts: list[SaleFact],
                   only: Collection[str] | None = None) -> None:
    """Add ``facts`` to every sales rollup (or to the tables named in ``only``): each table's
    rows in one upsert through the driver (``add_sums``), on PostgreSQL all of them in one
    round trip (``pipelined``)."""
    rows = sales_rows(facts)
    with pipelined(connection):
        for rollup in SALES_ROLLUPS:
            if only is None or rollup.table.name in only:
                add_sums(connection, rollup.table, SALES_MEASURES, rows[rollup.table.name])


def add_click_facts(connection: Connection, facts: list[ClickFact],
                    only: Collection[str] | None = None) -> None:
    """Add ``facts`` to every click rollup (or to the tables named in ``only``), each table's
    rows in one bulk upsert (``add_counts``): through SQLAlchemy's ``execute`` the click
    writer spent about as much CPU on these rows as on the rest of a landing request."""
    counted = click_rows(facts)
    with pipelined(connection):
        for rollup in CLICK_ROLLUPS:
            if only is None or rollup.table.name in only:
                add_counts(connection, rollup.table, "clicks", counted[rollup.table.name])


# --- reading the stored rows -----------------------------------------------------------------

_ORDER_FIELDS = (
    "transaction_type", "is_test", "transaction_time", "account", "payment_method", "currency",
    "total_order_amount", "total_account_amount", "affiliate_nickname",
    "billing_country", "billing_state", "billing_postal_code",
    "shipping_country", "shipping_state", "shipping_postal_code",
)
_PLACES = ("order_account", "order_method", "order_country", "order_state", "order_postal")


def _product_key(product_id: int | None, item_no: str) -> str:
    """A product in the reports: its affsrv id, or the ClickBank item number of one affsrv does
    not know."""
    return str(product_id) if product_id is not None else item_no


def _place(order: Any, name: str) -> Any:
    """The billing address's part ``name`` when the billing address has a country, else the
    shipping address's (as ``_order_fact`` takes them)."""
    return case((order.billing_country != "", getattr(order, f"billing_{name}")),
                else_=getattr(order, f"shipping_{name}"))


def _clickbank_order_places(affiliate_id: Any, order_ref: Any) -> Any:
    """The places of the ClickBank transaction a commission was recorded for: its ``order_ref``
    is the receipt (a SALE) or receipt + "/BILL" (a rebill)."""
    o = Order.__table__.c
    is_bill = order_ref.endswith("/BILL") if isinstance(order_ref, str) else None
    receipt = order_ref[:-5] if is_bill else order_ref
    return (select(*_order_place_columns(o))
            .where(o.receipt == receipt, o.transaction_type == ("BILL" if is_bill else "SALE"),
                   o.affiliate_id == affiliate_id)
            .order_by(o.id).limit(1))


def _order_place_columns(o: Any) -> list[Any]:
    return [
        o.account.label("order_account"), o.payment_method.label("order_method"),
        _place(o, "country").label("order_country"), _place(o, "state").label("order_state"),
        _place(o, "postal_code").label("order_postal"),
    ]


def _stream(connection: Connection, statement: Any) -> Iterator[dict[str, Any]]:
    result = connection.execute(
        statement, execution_options={"stream_results": True, "yield_per": _CHUNK})
    for row in result.mappings():
        yield dict(row)


def stored_sale_facts(connection: Connection, shop_account: str) -> Iterator[SaleFact]:
    """The facts of every stored transaction and commission, as the writes added them."""
    o = Order.__table__.c
    i = OrderLineItem.__table__.c
    a = Affiliate.__table__.c
    items = OrderLineItem.__table__.alias("items").c
    first_item = select(func.min(items.id)).where(items.order_id == o.id).scalar_subquery()
    orders = (
        select(*(o[name] for name in _ORDER_FIELDS), i.product_id, i.item_no,
               a.code.label("affiliate_code"))
        .select_from(Order.__table__)
        .outerjoin(OrderLineItem.__table__, i.id == first_item)
        .outerjoin(Affiliate.__table__, a.id == o.affiliate_id)
        .where(o.is_test.is_(False), o.transaction_type.in_(list(ORDER_TYPES)))
        .order_by(o.id)
    )
    for values in _stream(connection, orders):
        values["product"] = (_product_key(values["product_id"], values["item_no"])
                             if values["item_no"] is not None else "")
        values["affiliate"] = values["affiliate_code"] or values["affiliate_nickname"]
        fact = _order_fact(values)
        if fact is not None:
            yield fact
    yield from _stored_commission_facts(connection, shop_account)


def _stored_commission_facts(connection: Connection, shop_account: str) -> Iterator[SaleFact]:
    c = Commission.__table__
    twin = c.alias("twin")
    a = Affiliate.__table__.c
    o = Order.__table__.alias("o").c
    is_bill = c.c.order_ref.like("%/BILL")
    # The transaction the commission was recorded for (as _clickbank_order_places finds it).
    order_id = (
        select(func.min(o.id))
        .where(o.affiliate_id == c.c.affiliate_id,
               o.receipt == case((is_bill, func.substr(c.c.order_ref, 1,
                                                       func.length(c.c.order_ref) - 5)),
                                 else_=c.c.order_ref),
               o.transaction_type == case((is_bill, "BILL"), else_="SALE"))
        .scalar_subquery()
    )
    places_table = Order.__table__.alias("places")
    places = places_table.c
    statement = (
        select(c.c.source, c.c.product_id, a.code.label("affiliate_code"), c.c.currency, c.c.ip,
               c.c.created_at, c.c.commission_total, c.c.sale_total, c.c.reversal_reason,
               c.c.status, c.c.updated_at, twin.c.created_at.label("twin_created_at"),
               *_order_place_columns(places))
        .select_from(c)
        .outerjoin(Affiliate.__table__, a.id == c.c.affiliate_id)
        .outerjoin(twin, and_(twin.c.reverses_id == c.c.id,
                              twin.c.kind == CommissionKind.REVERSAL.value))
        .outerjoin(places_table, and_(c.c.source == "clickbank", places.id == order_id))
        .where(c.c.kind == CommissionKind.SALE.value)
        .order_by(c.c.id)
    )
    for values in _stream(connection, statement):
        if values["twin_created_at"] is not None:
            values["reversed_at"] = values["twin_created_at"]
        elif values["status"] == CommissionStatus.REVERSED.value:
            values["reversed_at"] = values["updated_at"]
        else:
            values["reversed_at"] = None
        yield from _commission_facts(values, shop_account)


def stored_click_facts(connection: Connection) -> Iterator[list[ClickFact]]:
    """The facts of every stored click, a chunk at a time (countries looked up per chunk)."""
    c = Click.__table__.c
    statement = select(c.affiliate_id, c.product_id, c.link_id, c.ip, c.created_at).order_by(
        c.id)
    result = connection.execute(
        statement, execution_options={"stream_results": True, "yield_per": _CHUNK})
    for chunk in result.partitions(_CHUNK):
        ips = iptocc.country_code([row.ip or "" for row in chunk])
        yield [ClickFact(row.created_at, row.affiliate_id, row.product_id or 0, row.link_id,
                         country or "") for row, country in zip(chunk, ips, strict=True)]


def _chunks(facts: Iterator[SaleFact]) -> Iterator[list[SaleFact]]:
    chunk: list[SaleFact] = []
    for fact in facts:
        chunk.append(fact)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- recount and check -----------------------------------------------------------------------

def all_rollup_tables() -> list[Table]:
    return [r.table for r in (*SALES_ROLLUPS, *CLICK_ROLLUPS)]


#: SQLite's page cache during a recount, in KiB (a negative cache_size is KiB).
_RECOUNT_CACHE_KIB = 256 * 1024


@contextmanager
def _page_cache_for_recount(connection: Connection) -> Iterator[None]:
    """On SQLite, a page cache of ``_RECOUNT_CACHE_KIB`` while a recount runs (the
    connection's own size again after). A recount is one transaction adding to every rollup
    in the order of the stored rows, not of each table's key: with the default 2 MB cache
    SQLite kept writing dirty pages out to the WAL (an upgrade filling the rollups of 5M
    clicks spent 146 s of system CPU, 29 s with this cache; docs/reports.md, *Recount and
    check*)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = {-_RECOUNT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


def rebuild_rollups(connection: Connection, shop_account: str,
                    only: Collection[str] | None = None) -> dict[str, int]:
    """Empty the rollups (or the tables named in ``only``: a migration adding a rollup fills
    just that) and count every stored transaction, commission and click again, in the
    caller's transaction; the rows each rollup has afterwards. The stored rows are read in
    chunks (never all at once), so memory stays flat however many there are."""
    tables = [t for t in all_rollup_tables() if only is None or t.name in only]
    with _page_cache_for_recount(connection):
        for table in tables:
            connection.execute(delete(table))
        # Each chunk is written as it is read (a PostgreSQL server-side cursor and the
        # upserts share the connection and its transaction).
        if any(r.table in tables for r in SALES_ROLLUPS):
            for chunk in _chunks(stored_sale_facts(connection, shop_account)):
                add_sale_facts(connection, chunk, only)
        if any(r.table in tables for r in CLICK_ROLLUPS):
            for clicks in stored_click_facts(connection):
                add_click_facts(connection, clicks, only)
    return {t.name: connection.scalar(select(func.count()).select_from(t)) or 0
            for t in tables}


def fill_new_rollups(connection: Connection, names: Collection[str]) -> None:
    """Count what is stored already into the rollup tables ``names``, as ``recount`` does:
    what a migration adding them runs (with the app's shop account, or the default one when
    it runs without the app)."""
    try:
        shop = _shop_account()
    except (RuntimeError, KeyError):  # no app context: alembic run on its own
        shop = "shop"
    rebuild_rollups(connection, shop, only=names)


def _table_rows(connection: Connection, table: Table, measures: list[str]
                ) -> dict[tuple[Any, ...], list[Any]]:
    keys = [c.name for c in table.primary_key.columns]
    return {
        tuple(row[:len(keys)]): list(row[len(keys):])
        for row in connection.execute(select(*(table.c[k] for k in keys),
                                             *(table.c[m] for m in measures)))
    }


def compare_rollups(connection: Connection, shop_account: str) -> list[str]:
    """How the rollups differ from the stored rows (empty when they agree): one line per
    differing row, at most 20 per table. Holds the expected rollups in memory (about a row per
    order and per click: a maintenance check, not a report)."""
    differences: list[str] = []
    expected_sales: dict[str, dict[tuple[Any, ...], list[Any]]] = defaultdict(dict)
    for chunk in _chunks(stored_sale_facts(connection, shop_account)):
        for name, rows in sales_rows(chunk).items():
            merged = expected_sales[name]
            for key, values in rows.items():
                if key in merged:
                    merged[key] = [x + y for x, y in zip(merged[key], values, strict=True)]
                else:
                    merged[key] = values
    expected_clicks: dict[str, dict[tuple[Any, ...], list[Any]]] = defaultdict(dict)
    for clicks in stored_click_facts(connection):
        for name, rows in click_rows(clicks).items():
            merged = expected_clicks[name]
            for key, clicks in rows.items():
                merged[key] = [merged.get(key, [0])[0] + clicks]
    for table, measures, expected in (
        *((r.table, list(SALES_MEASURES), expected_sales[r.table.name])
          for r in SALES_ROLLUPS),
        *((r.table, ["clicks"], expected_clicks[r.table.name]) for r in CLICK_ROLLUPS),
    ):
        actual = _table_rows(connection, table, measures)
        wanted = {k: v for k, v in expected.items() if any(x != 0 for x in v)}
        found = {k: v for k, v in actual.items() if any(x != 0 for x in v)}
        lines = [
            f"{table.name} {key}: stored {found.get(key)}, counted {wanted.get(key)}"
            for key in sorted(set(wanted) | set(found), key=repr)
            if found.get(key) != wanted.get(key)
        ]
        differences.extend(lines[:20])
        if len(lines) > 20:
            differences.append(f"{table.name}: {len(lines) - 20} more rows differ")
    return differences
