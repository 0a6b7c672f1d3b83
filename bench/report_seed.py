"""The report benchmark's data: generated orders and clicks, and two ways to put them into the
rollups.

- ``sale_facts`` / ``click_facts`` turn the generated rows into the facts the write paths add
  (``affsrv.reports.rollups.SaleFact`` / ``ClickFact``), for ``add_sale_facts`` /
  ``add_click_facts``: exact but slow (Python objects and one upsert per rollup row).
- ``fast_rollups`` sums the same rows per rollup table and key with numpy, and ``write_rollups``
  bulk-inserts the sums (executemany on SQLite, COPY on PostgreSQL): what makes 10,000,000
  orders seedable. ``bench/test_report_seed.py`` proves both give the same rollups, and that
  they equal what the real write path (ClickBank notifications, commissions, landing clicks)
  and ``affsrv report recount`` give for the same orders and clicks.

Every sale has a 10% commission (cents rounded half up, as ``affsrv.db.types.to_money``); a
tenth are refunded 3 days later and a fiftieth charged back 20 days later (the reversal
takes the commission back at that moment); facts after ``now`` are not (yet) made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert

from affsrv.reports.models import (
    CLICK_ROLLUPS,
    DAY,
    DAY_SECONDS,
    HOUR,
    HOUR_SECONDS,
    MINUTE,
    MINUTE_SECONDS,
    MONEY_MEASURES,
    MONTH,
    QUARTER_SECONDS,
    SALES_MEASURES,
    SALES_ROLLUPS,
    YEAR,
    Rollup,
)
from affsrv.reports.rollups import ClickFact, SaleFact

COUNTRIES = ["US", "GB", "DE", "CA", "AU", "IN", "NP", "FR", "BR", "JP"] + [
    f"{a}{b}" for a in "KLMNOP" for b in "ABCDEFG"]
METHODS = ["VISA", "MSTR", "PYPL", "AMEX", "DISC"]
_SLICE = 500_000
REFUND_DELAY, CHARGEBACK_DELAY = 3 * DAY_SECONDS, 20 * DAY_SECONDS


@dataclass
class Shape:
    """How many of each thing the generated business has."""

    accounts: int = 5
    products: int = 50
    affiliates: int = 2000
    postals: int = 20000
    links: int = 5000
    states: int = 60
    countries: tuple[str, ...] = tuple(COUNTRIES)


@dataclass
class Generated:
    """Sales facts (a sale, refund or chargeback each) and clicks as numpy columns."""

    shape: Shape
    # sales facts
    at: np.ndarray            # Unix seconds
    account: np.ndarray       # index into acct0..
    product: np.ndarray       # 1.. (the product key is its number as text)
    affiliate: np.ndarray     # index: code aff<index>
    method: np.ndarray
    country: np.ndarray       # index into shape.countries
    state: np.ndarray         # 0: none, k: S<k-1> (US only)
    postal: np.ndarray
    currency: np.ndarray      # 0: USD, 1: EUR
    kind: np.ndarray          # 0 sale, 1 refund, 2 chargeback
    amount: np.ndarray        # cents
    commission: np.ndarray    # cents, signed (a reversal takes it back)
    order: np.ndarray         # the sale a fact belongs to (0..orders-1)
    # clicks
    click_at: np.ndarray
    click_affiliate: np.ndarray   # affiliate id, 1..
    click_product: np.ndarray     # product id, 0 for none
    click_link: np.ndarray        # link id, 1..
    click_country: np.ndarray     # index into shape.countries


def generate(orders: int, clicks: int, start: int, end: int, seed: int,
             shape: Shape | None = None) -> Generated:
    """``orders`` sales spread evenly over Unix seconds ``start`` to ``end``, their refunds
    and chargebacks (those before ``end``), and ``clicks`` clicks likewise."""
    shape = shape or Shape()
    rng = np.random.default_rng(seed)
    n = orders
    at = start + (np.arange(n, dtype=np.int64) * (end - start)) // max(1, n)
    n_countries = len(shape.countries)
    country = (np.floor(rng.pareto(1.2, n)).astype(np.int64)) % n_countries
    us = shape.countries.index("US") if "US" in shape.countries else -1
    state = np.where(country == us, rng.integers(1, shape.states + 1, n), 0)
    amount = rng.integers(995, 19995, n)
    quotient, remainder = np.divmod(amount, 10)  # a 10% commission, cents rounded half up
    commission = quotient + (remainder >= 5)
    roll = rng.random(n)
    sale = {
        "at": at, "account": rng.integers(0, shape.accounts, n),
        "product": rng.integers(1, shape.products + 1, n),
        "affiliate": rng.integers(0, shape.affiliates, n),
        "method": rng.integers(0, len(METHODS), n), "country": country, "state": state,
        "postal": rng.integers(0, shape.postals, n),
        "currency": (rng.random(n) >= 0.9).astype(np.int64),
        "kind": np.zeros(n, np.int64), "amount": amount, "commission": commission,
        "order": np.arange(n, dtype=np.int64),
    }
    parts = [sale]
    for kind, chosen, delay in ((1, roll < 0.10, REFUND_DELAY),
                                (2, (roll >= 0.10) & (roll < 0.12), CHARGEBACK_DELAY)):
        taken = chosen & (at + delay < end)
        part = {k: v[taken] for k, v in sale.items()}
        part["at"] = part["at"] + delay
        part["kind"] = np.full(int(taken.sum()), kind, np.int64)
        part["commission"] = -part["commission"]
        parts.append(part)
    facts = {k: np.concatenate([p[k] for p in parts]) for k in sale}
    c = clicks
    return Generated(
        shape=shape, **facts,
        click_at=start + (np.arange(c, dtype=np.int64) * (end - start)) // max(1, c),
        click_affiliate=rng.integers(1, shape.affiliates + 1, c),
        click_product=rng.integers(0, shape.products + 1, c),
        click_link=rng.integers(1, shape.links + 1, c),
        click_country=(np.floor(rng.pareto(1.2, c)).astype(np.int64)) % n_countries,
    )


# --- the dimensions' values ------------------------------------------------------------------

def _labels(shape: Shape) -> dict[str, list[Any]]:
    return {
        "account": [f"acct{i}" for i in range(shape.accounts)],
        "product": [str(i) for i in range(shape.products + 1)],
        "affiliate": [f"aff{i}" for i in range(shape.affiliates)],
        "method": METHODS,
        "country": list(shape.countries),
        "state": [""] + [f"S{i}" for i in range(shape.states)],
        "postal": [f"{i:05d}" for i in range(shape.postals)],
        "currency": ["USD", "EUR"],
    }


def _measure_columns(g: Generated) -> dict[str, np.ndarray]:
    sale, refund, chargeback = g.kind == 0, g.kind == 1, g.kind == 2
    return {
        "orders": sale.astype(np.int64), "gross": np.where(sale, g.amount, 0),
        "refunds": refund.astype(np.int64), "refund_amount": np.where(refund, g.amount, 0),
        "chargebacks": chargeback.astype(np.int64),
        "chargeback_amount": np.where(chargeback, g.amount, 0), "commissions": g.commission,
    }


def _cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def _money_texts(cents: np.ndarray) -> list[str]:
    """``str(_cents(v))`` of each value ("-0.05", "123.40"), formatted by numpy: a Decimal per
    value was a third of seeding PostgreSQL."""
    magnitude = np.abs(cents)
    text = np.char.add(np.where(cents < 0, "-", ""), (magnitude // 100).astype(str))
    fraction = np.char.zfill((magnitude % 100).astype(str), 2)
    return np.char.add(np.char.add(text, "."), fraction).tolist()


# --- the slow, exact way: the write paths' facts ---------------------------------------------

def sale_facts(g: Generated) -> list[SaleFact]:
    labels = _labels(g.shape)
    measures = _measure_columns(g)
    facts = []
    for i in range(len(g.at)):
        fact = SaleFact(
            at=datetime.fromtimestamp(int(g.at[i]), UTC),
            **{d: labels[d][int(getattr(g, d)[i])] for d in (
                "account", "product", "affiliate", "method", "country", "state", "postal",
                "currency")},
        )
        for m in SALES_MEASURES:
            value = int(measures[m][i])
            setattr(fact, m, _cents(value) if m in MONEY_MEASURES else value)
        facts.append(fact)
    return facts


def click_facts(g: Generated) -> list[ClickFact]:
    countries = list(g.shape.countries)
    return [ClickFact(datetime.fromtimestamp(int(g.click_at[i]), UTC),
                      int(g.click_affiliate[i]), int(g.click_product[i]), int(g.click_link[i]),
                      countries[int(g.click_country[i])])
            for i in range(len(g.click_at))]


# --- the fast way: numpy sums and bulk inserts -----------------------------------------------

def _buckets(seconds: np.ndarray, grain: str) -> np.ndarray:
    if grain == MONTH:
        return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    if grain == YEAR:
        return seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)
    unit = {DAY: DAY_SECONDS, HOUR: HOUR_SECONDS, MINUTE: MINUTE_SECONDS}.get(
        grain, QUARTER_SECONDS)
    return seconds // unit


def _sum_by_key(keys: list[np.ndarray], values: list[np.ndarray]
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The distinct rows of ``keys`` (columns of non-negative integers) and ``values``
    summed per row: one int64 key in mixed radix when it fits, else a lexicographic sort."""
    radices = [int(k.max()) - int(k.min()) + 1 if len(k) else 1 for k in keys]
    lows = [int(k.min()) if len(k) else 0 for k in keys]
    if float(np.prod([float(r) for r in radices])) < 2.0**62:
        combined = np.zeros(len(keys[0]), np.int64)
        for k, low, radix in zip(keys, lows, radices, strict=True):
            combined = combined * radix + (k - low)
        order = np.argsort(combined, kind="stable")
        sorted_key = combined[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    else:
        order = np.lexsort(keys[::-1])
        change = np.zeros(len(order), bool)
        change[0:1] = True
        for k in keys:
            s = k[order]
            change[1:] |= s[1:] != s[:-1]
        starts = np.flatnonzero(change)
    first = order[starts]
    return ([k[first] for k in keys],
            [np.add.reduceat(v[order], starts) if len(order) else v[:0] for v in values])


@dataclass
class TableRows:
    rollup: Rollup
    keys: list[np.ndarray]       # bucket, then each dimension (codes)
    values: list[np.ndarray]     # each measure (cents for money)


def fast_rollups(g: Generated) -> Iterator[TableRows]:
    """Every rollup table's rows, summed from ``g`` with numpy (every fact counts one order,
    refund, chargeback or click, so no row sums to zero: the upserts leave the same rows)."""
    measures = _measure_columns(g)
    quarters = g.at // QUARTER_SECONDS
    week_quarter = ((quarters // 96 + 3) % 7) * 96 + quarters % 96  # as week_quarter_of
    for rollup in SALES_ROLLUPS:
        keys = [_buckets(g.at, rollup.grain),
                *(week_quarter if d == "week_quarter" else getattr(g, d)
                  for d in rollup.dimensions)]
        keys, values = _sum_by_key(keys, [measures[m] for m in SALES_MEASURES])
        yield TableRows(rollup, keys, values)
    click_columns = {"affiliate_id": g.click_affiliate, "product_id": g.click_product,
                     "link_id": g.click_link, "country": g.click_country}
    for rollup in CLICK_ROLLUPS:
        keys = [_buckets(g.click_at, rollup.grain),
                *(click_columns[d] for d in rollup.dimensions)]
        keys, values = _sum_by_key(keys, [np.ones(len(g.click_at), np.int64)])
        yield TableRows(rollup, keys, values)


def _python_rows(rows: TableRows, labels: dict[str, list[Any]], sqlite: bool
                 ) -> Iterator[tuple[Any, ...]]:
    """The rows as the database stores them: money as cents on SQLite (``FixedDecimal``),
    as decimal text for PostgreSQL's COPY."""
    columns: list[list[Any]] = [rows.keys[0].tolist()]
    for name, codes in zip(rows.rollup.dimensions, rows.keys[1:], strict=True):
        if name in labels:
            table = labels[name]
            columns.append([table[c] for c in codes.tolist()])
        else:
            columns.append(codes.tolist())
    measures = list(SALES_MEASURES) if len(rows.values) > 1 else ["clicks"]
    for name, values in zip(measures, rows.values, strict=True):
        if name in MONEY_MEASURES and not sqlite:
            columns.append(_money_texts(values))
        else:
            columns.append(values.tolist())
    return zip(*columns, strict=True)


def write_rollups(engine: Engine, g: Generated, log: Any = print) -> int:
    """Bulk-insert ``fast_rollups(g)`` into empty rollup tables; the rows written."""
    labels = _labels(g.shape)
    labels.pop("product")  # sales products are text keys, click products ids: see below
    sales_labels = {**labels, "product": _labels(g.shape)["product"]}
    written = 0
    sqlite = engine.dialect.name == "sqlite"
    for rows in fast_rollups(g):
        table = rows.rollup.table
        names = [c.name for c in table.columns]
        is_sales = rows.rollup in SALES_ROLLUPS
        with engine.begin() as connection:
            # Loaded without its secondary indexes, which are built once at the end: kept up
            # row by row they made most of the seeding's time (a wide rollup's four filter
            # indexes). The table ends with the models' indexes, as the app would make it.
            indexes = sorted(table.indexes, key=lambda index: index.name or "")
            for index in indexes:
                index.drop(connection, checkfirst=True)
            # A slice at a time: Python tuples of 50M clicks' rows would not fit in memory.
            for low in range(0, len(rows.keys[0]), _SLICE):
                part = TableRows(rows.rollup, [k[low:low + _SLICE] for k in rows.keys],
                                 [v[low:low + _SLICE] for v in rows.values])
                python_rows = _python_rows(part, sales_labels if is_sales else {
                    "country": labels["country"]}, sqlite)
                _insert(connection, table.name, names, python_rows, sqlite)
            for index in indexes:
                index.create(connection)
        written += len(rows.keys[0])
        log(f"  {table.name}: {len(rows.keys[0])} rows")
    return written


def add_affiliates(engine: Engine, count: int) -> None:
    """The generated business's affiliates: id ``i + 1`` has the code ``aff<i>`` (as the
    clicks' ids and the sales' codes are drawn), so a report narrowed to an affiliate finds
    its clicks and the affiliates report labels clicks and sales alike."""
    from affsrv.affiliates.models import Affiliate

    with engine.begin() as connection:
        connection.execute(insert(Affiliate.__table__), [
            {"id": i + 1, "code": f"aff{i}", "email": f"aff{i}@bench.invalid"}
            for i in range(count)])


def _insert(connection: Connection, name: str, names: list[str],
            rows: Iterator[tuple[Any, ...]], sqlite: bool) -> None:
    raw = connection.connection.dbapi_connection
    assert raw is not None
    if sqlite:
        cursor = raw.cursor()
        cursor.executemany(
            f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            rows)
        return
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
