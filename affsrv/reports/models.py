"""The reports' rollups and the reporting keys.

Every rollup is a sum kept current in the transaction that writes what it counts (an order, a
commission, a batch of clicks), added to with INSERT ... ON CONFLICT DO UPDATE so two racing
writers both count. Time is bucketed in UTC:

- ``*_q`` tables by quarter hour (``bucket`` = Unix seconds // 900): every zone's offset is a
  whole number of quarter hours (India +5:30, Nepal +5:45), so a zone's days and hours are
  unions of buckets, and the time groupings (day, hour, weekday) come out exact.
- ``*_d`` tables by UTC day (``bucket`` = Unix seconds // 86400): a report grouped by place,
  product, affiliate, account or method reads whole UTC days here and only the quarter hours of
  the range's two ragged ends from ``*_q``, so a two-year report reads ~730 day buckets, not
  ~70,000 quarter buckets.
- Postal codes are counted apart (``report_postal_*``): a postal code is nearly unique per
  order, so in the main rollups it would make every row one order's; there it would multiply
  the rows every other grouping reads.
- Narrow rollups, one per group (``report_by_<group>_d`` per UTC day and ``_m`` per UTC
  month: only that dimension and the currency), answer the unfiltered place, product,
  affiliate, account and method reports: a two-year report reads ~22 month rows per value,
  a few day rows and the quarter hours of its two ends, however many orders there were.
  ``report_times_q`` (quarter hour and currency only) and ``report_times_h`` (UTC hour and
  currency) answer the unfiltered time groupings: the hourly one wherever the zone's offsets
  and transitions in the range are whole hours (most zones), the quarter-hourly one otherwise
  (India, Nepal, ...). ``report_week_quarters_m`` (UTC month, quarter hour of the UTC week,
  currency) answers the hour and weekday groupings for the whole months of a range in which
  the zone's offset does not change. A report narrowed to one value reads the filtered
  rollups (below); narrowed by two at once, the wide ones.
- The wide rollups (``report_sales_*``, ``report_postal_*``, ``report_clicks_q``/``_d``) have
  an index (filter, bucket) per filter a report takes (account, product, affiliate, country)
  besides their key, which leads with the bucket: the ragged ends of a narrowed report, a
  narrowed postal report and one narrowed by two filters read the filter's rows in the
  range, not every row of it.
- ``report_by_postal_d``/``_m`` (postal code and currency) answer the unfiltered postal report
  as the other narrow rollups do: their rows are bounded by codes x days or months, not by
  orders (the wide postal rollups keep about a row per order).
- ``report_by_affiliate_y`` and ``report_by_postal_y`` (UTC year less 1970, the group and the
  currency): the groups with thousands of values read a range's whole UTC years there and only
  its other months from ``_m`` (a two-year range holds a whole year: about 12 month rows and
  a year row per value, not 24 month rows).
- ``report_clicks_by_affiliate_y`` and ``report_clicks_by_link_y`` (UTC year less 1970 and
  the affiliate or link): the same for the clicks of the affiliates report by affiliate and
  by link.
- Filtered rollups, one per filter and group (``report_<filter>_by_<group>_d``/``_m``: the
  filter's value, the group and the currency; ``report_<filter>_times_q``/``_h`` and
  ``report_<filter>_week_quarters_m`` for the time groupings; ``report_<filter>_clicks_by_*``
  and ``report_<filter>_click_times_*`` for clicks) answer a report narrowed to one account,
  product or country as the narrow rollups answer an unfiltered one. Their keys lead with
  the filter, so the filtered value's rows of a range are one range of the key. Without them
  a narrowed report read the filtered value's rows of the wide rollups, about a row per
  order: one account of five, or a country with half the sales, meant millions of rows. A
  report narrowed to one affiliate reads the wide rollups through their index (below).
- ``report_minutes`` (Unix seconds // 60, per account and currency only) answers today's live
  report per minute; it is small (at most 1440 rows a day per account and currency).

The sums are of money (``Money``: exact cents on both databases) and counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, MoneySum, UTCDateTime, utcnow
from affsrv.extensions import db

QUARTER_SECONDS = 900
HOUR_SECONDS = 3600
DAY_SECONDS = 86400
MINUTE_SECONDS = 60
#: A rollup's grain: its bucket is Unix seconds // the grain's seconds, or for MONTH the
#: number of whole UTC months since January 1970, for YEAR the UTC year less 1970.
QUARTER, HOUR, DAY, MONTH, YEAR, MINUTE = "quarter", "hour", "day", "month", "year", "minute"

#: The sums every sales rollup keeps, in this order.
SALES_MEASURES = (
    "orders", "gross", "refunds", "refund_amount", "chargebacks", "chargeback_amount",
    "commissions",
)
MONEY_MEASURES = frozenset({"gross", "refund_amount", "chargeback_amount", "commissions"})

#: The dimensions of the wide sales rollups (``report_sales_q``/``_d``), in key order: what a
#: filtered report reads.
SALES_DIMENSIONS = ("account", "product", "affiliate", "method", "country", "state", "currency")
#: The dimensions of the postal-code rollups.
POSTAL_DIMENSIONS = ("account", "product", "affiliate", "country", "postal", "currency")
#: The groups with a narrow rollup of their own (one dimension and the currency), per UTC day
#: and per UTC month: what an unfiltered report grouped by one of them reads.
NARROW_GROUPS = ("country", "state", "product", "affiliate", "account", "method", "postal")
#: The narrow groups with a yearly rollup too: those whose answers are long (thousands of
#: groups), where a two-year report read 24 month rows per group; with whole UTC years it
#: reads at most 22 and usually about 12 (a two-year range holds a whole year).
YEAR_GROUPS = ("affiliate", "postal")
#: The dimensions of the click rollups.
CLICK_DIMENSIONS = ("affiliate_id", "product_id", "link_id", "country")
#: The dimensions a report can be narrowed to (``Filters``), in the sales rollups' and the
#: click rollups' terms: each has an index (it, bucket) in the wide rollups that have it.
FILTER_DIMENSIONS = ("account", "product", "affiliate", "country", "affiliate_id",
                     "product_id")

#: The sales filters with rollups of their own, per group and for the time groupings: those
#: whose one value can hold a large share of the orders (one account of a merchant's few, a
#: best-selling product, the country of half the sales). Not the affiliate: one of thousands
#: holds a small share, read through the wide rollups' index, and per affiliate the rollups
#: would be about a row per order (measured at 10M orders: 5.8 to 10.5 million day rows per
#: group, the wide rollup's 11.2 million; docs/reports.md).
SALES_FILTERS = ("account", "product", "country")
#: The click filters (the click rollups' terms) with rollups of their own, likewise.
CLICK_FILTERS = ("product_id", "country")

#: The filters (sales' and clicks' terms) a narrowed report reads from rollups of their own.
OWN_ROLLUP_FILTERS = frozenset((*SALES_FILTERS, *CLICK_FILTERS))

_WIDTHS = {"account": 64, "product": 64, "affiliate": 64, "method": 32, "country": 2,
           "state": 100, "postal": 20, "currency": 3}


def _dimension(name: str) -> Column:
    if name in {"affiliate_id", "product_id", "week_quarter"}:
        return Column(name, Integer, primary_key=True, autoincrement=False)
    if name == "link_id":
        return Column(name, BigId, primary_key=True, autoincrement=False)
    return Column(name, String(_WIDTHS[name]), primary_key=True)


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its grain and the dimensions of its key (besides ``bucket``)."""

    table: Table
    grain: str
    dimensions: tuple[str, ...]

    @cached_property
    def key(self) -> tuple[str, ...]:
        """The key's columns in the primary key's order: ``bucket`` first, or after the
        filter in a filtered rollup."""
        return tuple(c.name for c in self.table.primary_key.columns)


def _leading_key(leading: str | None, dimensions: tuple[str, ...]) -> list[PrimaryKeyConstraint]:
    """A filtered rollup's primary key, led by its filter: the filtered value's rows of a
    range are one range of the key (none for the others: the columns' order)."""
    if leading is None:
        return []
    return [PrimaryKeyConstraint(leading, "bucket", *(d for d in dimensions if d != leading))]


def _filter_indexes(name: str, dimensions: tuple[str, ...], wide: bool,
                    covered: tuple[str, ...] = ()) -> list[Index]:
    """A wide rollup's indexes (filter, bucket); none for the others (a filtered rollup's
    key leads with its filter; the rest are read unfiltered). On PostgreSQL the index of a
    filter without rollups of its own (the affiliate) carries ``covered``: its reports read
    the wide rollups through this index, and with the measures in it the index alone (an
    index-only scan), not a table page per row. Measured for the clicks: 21,000 pages, 108 ms
    of a 138 ms report at 10M orders (docs/reports.md); the sales rollups cover nothing (the
    index would have to carry every measure and dimension)."""
    return [Index(f"ix_{name}_{d}_bucket", d, "bucket",
                  postgresql_include=[] if d in OWN_ROLLUP_FILTERS else list(covered))
            for d in dimensions if wide and d in FILTER_DIMENSIONS]


def _sales_rollup(name: str, grain: str, dimensions: tuple[str, ...],
                  wide: bool = False, leading: str | None = None) -> Rollup:
    table = Table(
        name, db.metadata,
        Column("bucket", Integer, primary_key=True, autoincrement=False),
        *(_dimension(d) for d in dimensions),
        *(Column(m, MoneySum() if m in MONEY_MEASURES else BigInteger, nullable=False)
          for m in SALES_MEASURES),
        *_filter_indexes(name, dimensions, wide),
        *_leading_key(leading, dimensions),
    )
    return Rollup(table, grain, dimensions)


def _click_rollup(name: str, grain: str, dimensions: tuple[str, ...] = CLICK_DIMENSIONS,
                  wide: bool = False, leading: str | None = None) -> Rollup:
    table = Table(
        name, db.metadata,
        Column("bucket", Integer, primary_key=True, autoincrement=False),
        *(_dimension(d) for d in dimensions),
        Column("clicks", BigInteger, nullable=False),
        *_filter_indexes(name, dimensions, wide, covered=("clicks",)),
        *_leading_key(leading, dimensions),
    )
    return Rollup(table, grain, dimensions)


sales_q = _sales_rollup("report_sales_q", QUARTER, SALES_DIMENSIONS, wide=True)
sales_d = _sales_rollup("report_sales_d", DAY, SALES_DIMENSIONS, wide=True)
postal_q = _sales_rollup("report_postal_q", QUARTER, POSTAL_DIMENSIONS, wide=True)
postal_d = _sales_rollup("report_postal_d", DAY, POSTAL_DIMENSIONS, wide=True)
#: Every sale's time alone: the unfiltered day, hour and weekday groupings.
times_q = _sales_rollup("report_times_q", QUARTER, ("currency",))
#: The same per UTC hour: a quarter of the rows, for zones whose offsets are whole hours.
times_h = _sales_rollup("report_times_h", HOUR, ("currency",))
#: Per UTC month and quarter hour of the UTC week (0: Monday 00:00-00:15 UTC, 671: Sunday
#: 23:45): in a month of constant offset, a zone's hour and weekday of each of its sales are
#: those of its week quarter, so the hour and weekday groupings read 672 rows per month.
week_quarters_m = _sales_rollup("report_week_quarters_m", MONTH, ("week_quarter", "currency"))
minutes = _sales_rollup("report_minutes", MINUTE, ("account", "currency"))
narrow_d = {g: _sales_rollup(f"report_by_{g}_d", DAY, (g, "currency")) for g in NARROW_GROUPS}
narrow_m = {g: _sales_rollup(f"report_by_{g}_m", MONTH, (g, "currency"))
            for g in NARROW_GROUPS}
narrow_y = {g: _sales_rollup(f"report_by_{g}_y", YEAR, (g, "currency")) for g in YEAR_GROUPS}
clicks_q = _click_rollup("report_clicks_q", QUARTER, wide=True)
clicks_d = _click_rollup("report_clicks_d", DAY, wide=True)
click_times_q = _click_rollup("report_click_times_q", QUARTER, ())
click_times_h = _click_rollup("report_click_times_h", HOUR, ())
click_narrow_d = {d: _click_rollup(f"report_clicks_by_{d.removesuffix('_id')}_d", DAY, (d,))
                  for d in CLICK_DIMENSIONS}
click_narrow_m = {d: _click_rollup(f"report_clicks_by_{d.removesuffix('_id')}_m", MONTH, (d,))
                  for d in CLICK_DIMENSIONS}
#: Clicks per UTC year of the click groups with long answers (thousands of affiliates and
#: links), as ``narrow_y`` for sales.
CLICK_YEAR_DIMENSIONS = ("affiliate_id", "link_id")
click_narrow_y = {d: _click_rollup(f"report_clicks_by_{d.removesuffix('_id')}_y", YEAR, (d,))
                  for d in CLICK_YEAR_DIMENSIONS}


# --- filtered rollups: a report narrowed to one account, product or country ----------------
#: The groups each sales filter has rollups for: every narrow group but the filter itself (the
#: narrow rollup of that group has its column) and postal codes (per filter, about a row per
#: order even by month: 20,000 codes; a filtered postal report reads the wide postal rollups).
FILTERED_GROUPS = {f: tuple(g for g in NARROW_GROUPS if g not in {f, "postal"})
                   for f in SALES_FILTERS}
#: The same for clicks, in the click rollups' terms.
CLICK_FILTERED_GROUPS = {f: tuple(g for g in CLICK_DIMENSIONS if g != f) for f in CLICK_FILTERS}


def _short(dimension: str) -> str:
    return dimension.removesuffix("_id")


filtered_d = {(f, g): _sales_rollup(f"report_{f}_by_{g}_d", DAY, (f, g, "currency"), leading=f)
              for f, groups in FILTERED_GROUPS.items() for g in groups}
filtered_m = {(f, g): _sales_rollup(f"report_{f}_by_{g}_m", MONTH, (f, g, "currency"),
                                    leading=f)
              for f, groups in FILTERED_GROUPS.items() for g in groups}
filtered_times_q = {f: _sales_rollup(f"report_{f}_times_q", QUARTER, (f, "currency"), leading=f)
                    for f in SALES_FILTERS}
filtered_times_h = {f: _sales_rollup(f"report_{f}_times_h", HOUR, (f, "currency"), leading=f)
                    for f in SALES_FILTERS}
filtered_week_quarters_m = {
    f: _sales_rollup(f"report_{f}_week_quarters_m", MONTH, (f, "week_quarter", "currency"),
                     leading=f)
    for f in SALES_FILTERS}
click_filtered_d = {
    (f, g): _click_rollup(f"report_{_short(f)}_clicks_by_{_short(g)}_d", DAY, (f, g), leading=f)
    for f, groups in CLICK_FILTERED_GROUPS.items() for g in groups}
click_filtered_m = {
    (f, g): _click_rollup(f"report_{_short(f)}_clicks_by_{_short(g)}_m", MONTH, (f, g),
                          leading=f)
    for f, groups in CLICK_FILTERED_GROUPS.items() for g in groups}
click_filtered_times_q = {
    f: _click_rollup(f"report_{_short(f)}_click_times_q", QUARTER, (f,), leading=f)
    for f in CLICK_FILTERS}
click_filtered_times_h = {
    f: _click_rollup(f"report_{_short(f)}_click_times_h", HOUR, (f,), leading=f)
    for f in CLICK_FILTERS}

SALES_ROLLUPS: tuple[Rollup, ...] = (
    sales_q, sales_d, postal_q, postal_d, times_q, times_h, week_quarters_m, minutes,
    *narrow_d.values(), *narrow_m.values(), *narrow_y.values(),
    *filtered_d.values(), *filtered_m.values(), *filtered_times_q.values(),
    *filtered_times_h.values(), *filtered_week_quarters_m.values(),
)
CLICK_ROLLUPS: tuple[Rollup, ...] = (
    clicks_q, clicks_d, click_times_q, click_times_h,
    *click_narrow_d.values(), *click_narrow_m.values(), *click_narrow_y.values(),
    *click_filtered_d.values(), *click_filtered_m.values(), *click_filtered_times_q.values(),
    *click_filtered_times_h.values(),
)


class ReportKey(db.Model):
    """A key for the HTTP reports (``/reports/v1``), made with ``affsrv report key create``."""

    __tablename__ = "report_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the key (``affsrv.keyhash``): keys are 256-bit random, no password KDF needed.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, to tell keys apart in `affsrv report key list`.
    prefix: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
