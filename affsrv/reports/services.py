"""The reports: typed rows for a period in a time zone, summed by the database from the
rollups (``affsrv.reports.models``). Nothing here knows HTTP or the command line; the CLI, the
HTTP views and later the web pages render these rows.

Time zones: a report's dates are days of its zone. The rollups are in UTC buckets; the zone's
offset, which changes at daylight-saving transitions, is applied per bucket in SQL (a CASE over
the period's transitions, found with zoneinfo), so each sale falls in the day, hour and weekday
of the zone at its moment.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import product
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Connection,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.dialects import postgresql

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.services import ledger_currency
from affsrv.db.types import Money
from affsrv.errors import DomainError
from affsrv.reports.models import (
    CLICK_FILTERS,
    DAY_SECONDS,
    FILTER_DIMENSIONS,
    HOUR_SECONDS,
    MINUTE_SECONDS,
    QUARTER_SECONDS,
    SALES_FILTERS,
    SALES_MEASURES,
    Rollup,
    click_filtered_d,
    click_filtered_m,
    click_filtered_times_h,
    click_filtered_times_q,
    click_narrow_d,
    click_narrow_m,
    click_narrow_y,
    click_times_h,
    click_times_q,
    clicks_d,
    clicks_q,
    filtered_d,
    filtered_m,
    filtered_times_h,
    filtered_times_q,
    filtered_week_quarters_m,
    minutes,
    narrow_d,
    narrow_m,
    narrow_y,
    postal_d,
    postal_q,
    sales_d,
    sales_q,
    times_h,
    times_q,
    week_quarters_m,
)
from affsrv.tracking.models import ReferralLink

#: What ``sales_report`` groups by.
SALES_GROUPS = ("country", "state", "postal", "day", "hour", "weekday", "weekday-hour",
                "product", "affiliate", "account", "method")
#: What ``affiliates_report`` groups by.
AFFILIATE_GROUPS = ("affiliate", "product", "link", "day", "country")
TIME_GROUPS = frozenset({"day", "hour", "weekday", "weekday-hour"})
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RATE = Decimal("0.0001")
_ZERO = Decimal("0.00")


# --- periods and zones -----------------------------------------------------------------------

def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a ``DomainError`` for an unknown one."""
    try:
        if not name or name != name.strip() or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(f"unknown time zone {name!r}: give an IANA zone such as "
                          "Europe/Berlin") from None


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last`` (inclusive) of ``zone``: UTC seconds ``start`` (inclusive)
    to ``end`` (exclusive), and the zone's offsets between them: ``(from second, offset
    seconds)``, the first from ``start``."""

    first: date
    last: date
    zone: ZoneInfo
    start: int
    end: int
    offsets: tuple[tuple[int, int], ...]


def _midnight(day: date, zone: ZoneInfo) -> int:
    """The first moment of ``day`` in ``zone`` (a midnight that a transition skips begins the
    day at the end of the gap), as Unix seconds."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    seconds = math.floor(local.timestamp())
    # zoneinfo resolves a nonexistent midnight to a moment that may fall before the day:
    back = datetime.fromtimestamp(seconds, zone)
    while back.date() < day:
        seconds += 60
        back = datetime.fromtimestamp(seconds, zone)
    return seconds


def _offset(zone: ZoneInfo, second: int) -> int:
    offset = datetime.fromtimestamp(second, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def zone_offsets(zone: ZoneInfo, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The offsets of ``zone`` from ``start`` to ``end`` (Unix seconds): each transition
    found by probing every 12 hours, then bisected to the second."""
    found = [(start, _offset(zone, start))]
    probe = start
    while probe < end:
        following = min(probe + 43200, end)
        if _offset(zone, following) != found[-1][1]:
            low, high = probe, following  # offset(low) is the current one, offset(high) not
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            if high < end:
                found.append((high, _offset(zone, high)))
        probe = following
    return tuple(found)


def make_period(first: date, last: date, zone: ZoneInfo, max_days: int) -> Period:
    """The period of days ``first`` to ``last`` in ``zone``; a ``DomainError`` when ``first``
    is after ``last`` or the range is longer than ``max_days`` (``[reports] max_days``)."""
    if first > last:
        raise DomainError(f"from {first.isoformat()} is after to {last.isoformat()}")
    days = (last - first).days + 1
    if days > max_days:
        raise DomainError(f"the range is {days} days; at most {max_days} ([reports] max_days)")
    if first.year < 1971 or last.year > 9998:
        raise DomainError("dates must be between 1971-01-01 and 9998-12-31")
    start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    offsets = zone_offsets(zone, start, end)
    for second, offset in offsets:
        if second % QUARTER_SECONDS or offset % QUARTER_SECONDS:
            raise DomainError(
                f"{zone.key} was not a whole number of quarter hours from UTC in this range "
                "(before standard time zones): choose later dates or another zone")
    return Period(first, last, zone, start, end, offsets)


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


def this_month(zone: ZoneInfo, now: datetime | None = None) -> tuple[date, date]:
    """The first day of the zone's current month, and today in the zone."""
    today = today_in(zone, now)
    return today.replace(day=1), today


# --- SQL helpers -----------------------------------------------------------------------------

def _local_units(bucket: Any, period: Period, unit: int) -> Any:
    """``bucket`` (UTC units of ``unit`` seconds) moved to the zone's local time, in SQL."""
    offsets = period.offsets
    if len(offsets) == 1:
        return bucket + offsets[0][1] // unit
    whens = [(bucket < second // unit, offset // unit)
             for (_, offset), (second, _) in zip(offsets, offsets[1:], strict=False)]
    return bucket + case(*whens, else_=offsets[-1][1] // unit)


def _time_key(local: Any, unit: int, by: str) -> Any:
    per_day = DAY_SECONDS // unit
    per_hour = 3600 // unit
    if by == "day":
        return local // per_day
    if by == "hour":
        return (local % per_day) // per_hour
    if by == "weekday":
        return (local // per_day + 3) % 7  # 1970-01-01 was a Thursday (Monday is 0)
    if by == "weekday-hour":
        return ((local // per_day + 3) % 7) * 24 + (local % per_day) // per_hour
    raise ValueError(by)

def _time_label(by: str, value: int) -> str:
    if by == "day":
        return (date(1970, 1, 1) + timedelta(days=value)).isoformat()
    if by == "hour":
        return f"{value:02d}"
    if by == "weekday":
        return WEEKDAYS[value]
    if by == "weekday-hour":
        return f"{WEEKDAYS[value // 24]} {value % 24:02d}"
    return f"{value // 60:02d}:{value % 60:02d}"  # a minute of the day


def _among(connection: Connection, column: Any, values: list[int], negate: bool = False
           ) -> Any:
    """``column IN values`` (``NOT IN`` with ``negate``) as one bound value (a JSON array on
    SQLite, an array of the column's type on PostgreSQL): SQLAlchemy's ``in_`` renders a
    parameter per value, which cost a long report (thousands of affiliates or links) more
    than the query. ``NOT IN`` reads the values through a subquery on both: PostgreSQL
    hashes it once per statement. ``<> ALL (array)`` it hashes only when it plans with the
    values, not in the generic plan of a statement psycopg has prepared (after five runs on
    a connection), nor against an array of another type: there every row was compared with
    every value (a two-year day report in Kolkata at 1M orders: 170 ms instead of 45,
    docs/reports.md)."""
    numbers = [int(v) for v in values]
    if connection.dialect.name == "postgresql":
        array = bindparam("values", numbers, type_=postgresql.ARRAY(column.type), unique=True)
        if not negate:
            return column == any_(array)  # an index scan's condition
        listed = select(func.unnest(array))
    else:
        listed = select(func.json_each(json.dumps(numbers)).table_valued("value").c.value)
    return column.not_in(listed) if negate else column.in_(listed)


def _month_start(month: int) -> int:
    """The first second of UTC month ``month`` (months since January 1970)."""
    year, index = divmod(month, 12)
    return int(datetime(1970 + year, index + 1, 1, tzinfo=UTC).timestamp())


def _bucket_ranges(period: Period, quarters: Rollup, days: Rollup | None = None,
                   months: Rollup | None = None, years: Rollup | None = None
                   ) -> list[tuple[Table, int, int]]:
    """The tables and bucket ranges (inclusive, exclusive) that cover the period: whole UTC
    years from ``years``, the other whole UTC months from ``months``, whole UTC days from
    ``days``, the ragged ends (less than a day each) from ``quarters``. So a long report reads
    few rows, however many orders it sums."""
    first_q, end_q = period.start // QUARTER_SECONDS, period.end // QUARTER_SECONDS
    first_day = -(-period.start // DAY_SECONDS)
    end_day = period.end // DAY_SECONDS
    if days is None or first_day >= end_day:
        return [(quarters.table, first_q, end_q)]
    per_day = DAY_SECONDS // QUARTER_SECONDS
    ranges = []
    if first_q < first_day * per_day:
        ranges.append((quarters.table, first_q, first_day * per_day))
    if end_day * per_day < end_q:
        ranges.append((quarters.table, end_day * per_day, end_q))
    if months is not None:
        start_day = datetime.fromtimestamp(first_day * DAY_SECONDS, UTC)
        first_month = (start_day.year - 1970) * 12 + start_day.month - 1
        if start_day.day != 1:
            first_month += 1
        stop_day = datetime.fromtimestamp(end_day * DAY_SECONDS, UTC)
        end_month = (stop_day.year - 1970) * 12 + stop_day.month - 1
        if first_month < end_month:
            month_first_day = _month_start(first_month) // DAY_SECONDS
            month_end_day = _month_start(end_month) // DAY_SECONDS
            first_year, end_year = -(-first_month // 12), end_month // 12
            if years is not None and first_year < end_year:
                ranges.append((years.table, first_year, end_year))
                if first_month < first_year * 12:
                    ranges.append((months.table, first_month, first_year * 12))
                if end_year * 12 < end_month:
                    ranges.append((months.table, end_year * 12, end_month))
            else:
                ranges.append((months.table, first_month, end_month))
            if first_day < month_first_day:
                ranges.append((days.table, first_day, month_first_day))
            if month_end_day < end_day:
                ranges.append((days.table, month_end_day, end_day))
            return ranges
    ranges.append((days.table, first_day, end_day))
    return ranges


class Read(NamedTuple):
    """The rows of ``table`` with ``low <= bucket < high`` and, when given, ``where`` (a
    condition on them): added (``sign`` 1) or taken away (-1)."""

    table: Table
    low: int
    high: int
    sign: int = 1
    where: Any = None


def _month_of_day(day: int) -> int:
    at = datetime.fromtimestamp(day * DAY_SECONDS, UTC)
    return (at.year - 1970) * 12 + at.month - 1


def _signed_ranges(period: Period, quarters: Rollup, days: Rollup, months: Rollup,
                   years: Rollup) -> list[Read]:
    """The fewest buckets whose signed sum covers the period, for the groups with long
    answers: a range's ragged days may be read as their whole month less the month's days
    outside the range (December 7 to 31: the month less December 1 to 6, seven buckets
    instead of 25), its ragged months as their year less its other months. Every
    combination of rounding each end in or out, at the month and the year level, is costed
    in buckets before now and the cheapest taken (the plain cover of ``_bucket_ranges`` on a
    tie): a range ending today reads its last month as the whole month less its days to
    come, none of which have rows."""
    plain = [Read(t, low, high) for t, low, high in
             _bucket_ranges(period, quarters, days, months, years)]
    first_q, end_q = period.start // QUARTER_SECONDS, period.end // QUARTER_SECONDS
    first_day, end_day = -(-period.start // DAY_SECONDS), period.end // DAY_SECONDS
    if first_day >= end_day:
        return plain
    per_day = DAY_SECONDS // QUARTER_SECONDS
    ends = []
    if first_q < first_day * per_day:
        ends.append(Read(quarters.table, first_q, first_day * per_day))
    if end_day * per_day < end_q:
        ends.append(Read(quarters.table, end_day * per_day, end_q))

    def month_bounds(day: int) -> set[int]:  # the month starts at or around a day
        month = _month_of_day(day)
        return {month, month + (_month_start(month) // DAY_SECONDS != day)}

    def year_bounds(month: int) -> set[int]:
        return {month // 12, -(-month // 12)}

    # What a range costs: its buckets, less those after now (empty in all but a clock's
    # mistake; the sums are exact whichever cover is taken, only the rows read differ).
    now = math.ceil(datetime.now(UTC).timestamp())
    current_month = _month_of_day(now // DAY_SECONDS)
    upto = {quarters.table: -(-now // QUARTER_SECONDS), days.table: -(-now // DAY_SECONDS),
            months.table: current_month + 1, years.table: current_month // 12 + 1}

    def cost(ranges: list[Read]) -> int:
        return sum(max(0, min(high, upto[table]) - low) for table, low, high, *_ in ranges)

    def cover(first_month: int, end_month: int, first_year: int, end_year: int
              ) -> list[Read]:
        """Days up to a month, months up to a year, the years, and down again at the other
        end; a piece running backwards is taken away."""
        ranges = list(ends)
        for table, low, high in (
            (days.table, first_day, _month_start(first_month) // DAY_SECONDS),
            (months.table, first_month, first_year * 12),
            (years.table, first_year, end_year),
            (months.table, end_year * 12, end_month),
            (days.table, _month_start(end_month) // DAY_SECONDS, end_day),
        ):
            if low < high:
                ranges.append(Read(table, low, high))
            elif high < low:
                ranges.append(Read(table, high, low, -1))
        return ranges

    candidates = (
        cover(first_month, end_month, first_year, end_year)
        for first_month, end_month in product(sorted(month_bounds(first_day)),
                                              sorted(month_bounds(end_day)))
        for first_year, end_year in product(sorted(year_bounds(first_month)),
                                            sorted(year_bounds(end_month)))
    )
    return min([plain, *candidates], key=cost)  # the first of equal costs: plain on a tie


def _time_ranges(period: Period, quarters: Rollup, hours: Rollup | None
                 ) -> tuple[list[tuple[Table, int, int]], int]:
    """The buckets a time grouping reads, and their unit in seconds: the hourly rollup when
    the period's bounds, offsets and transitions are all whole hours (then every local hour
    is a UTC hour), else the quarter hours."""
    whole_hours = hours is not None and period.end % HOUR_SECONDS == 0 and all(
        second % HOUR_SECONDS == 0 and offset % HOUR_SECONDS == 0
        for second, offset in period.offsets)
    if whole_hours:
        assert hours is not None
        return [(hours.table, period.start // HOUR_SECONDS,
                 period.end // HOUR_SECONDS)], HOUR_SECONDS
    return _bucket_ranges(period, quarters), QUARTER_SECONDS


def _split_hours(period: Period) -> set[int]:
    """The UTC hours (Unix seconds // 3600) of the period in which a local day begins or the
    zone's offset changes after the hour's first second: the hours that do not lie within one
    local day at one offset. Each offset's midnights are worked out from the offset, so a day
    a transition begins late (its midnight skipped) is among them through the transition."""
    split = {second // HOUR_SECONDS for second, _ in period.offsets[1:]
             if second % HOUR_SECONDS}
    bounds = [second for second, _ in period.offsets[1:]] + [period.end]
    for (low, offset), high in zip(period.offsets, bounds, strict=True):
        midnight = -(-(low + offset) // DAY_SECONDS) * DAY_SECONDS - offset  # first >= low
        for second in range(midnight, high, DAY_SECONDS):
            if second % HOUR_SECONDS:
                split.add(second // HOUR_SECONDS)
    return split


def _time_reads(connection: Connection, period: Period, times: TimeRollups, by: str
                ) -> tuple[list[Read], Any]:
    """What a time grouping by ``by`` reads, and each table's group key: the hourly rollup
    where the period's bounds, offsets and transitions are all whole hours, else the quarter
    hours (``_time_ranges``). Grouped by day, where a local midnight falls inside a UTC hour
    (India +5:30, Nepal +5:45, Lord Howe at +10:30), the hours that lie within one local day
    at one offset still come from the hourly rollup, and only the others (one a day,
    ``_split_hours``, and the period's ragged ends) from the quarter hours: about 27 rows a
    day instead of the 96 quarter hours (a two-year report in Kolkata took 134 to 189 ms on
    them, docs/reports.md)."""
    ranges, unit = _time_ranges(period, times.quarters, times.hours)
    hours = times.hours
    if by != "day" or unit == HOUR_SECONDS or hours is None:
        return [Read(*r) for r in ranges], lambda table: _time_key(
            _local_units(table.c.bucket, period, unit), unit, by)
    first_hour = -(-period.start // HOUR_SECONDS)
    end_hour = period.end // HOUR_SECONDS
    split = sorted(h for h in _split_hours(period) if first_hour <= h < end_hour)
    edges = [*range(period.start // HOUR_SECONDS, first_hour),
             *range(end_hour, -(-period.end // HOUR_SECONDS))]
    first_q, end_q = period.start // QUARTER_SECONDS, period.end // QUARTER_SECONDS
    per_hour = HOUR_SECONDS // QUARTER_SECONDS
    quarters = sorted(q for h in (*split, *edges) for q in range(h * per_hour, (h + 1) * per_hour)
                      if first_q <= q < end_q)
    reads = []
    if first_hour < end_hour:
        whole = hours.table.c.bucket
        reads.append(Read(hours.table, first_hour, end_hour,
                          where=_among(connection, whole, split, negate=True) if split else None))
    if quarters:
        part = times.quarters.table.c.bucket
        reads.append(Read(times.quarters.table, quarters[0], quarters[-1] + 1,
                          where=_among(connection, part, quarters)))

    def key_of(table: Table) -> Any:
        unit = HOUR_SECONDS if table is hours.table else QUARTER_SECONDS
        return _time_key(_local_units(table.c.bucket, period, unit), unit, "day")
    return reads, key_of


def _constant_months(period: Period) -> list[tuple[int, int, int]]:
    """Runs ``(first month, end month, offset)`` of the whole UTC months within the period
    throughout which the zone's offset does not change (months since January 1970)."""
    start_at = datetime.fromtimestamp(period.start, UTC)
    month = (start_at.year - 1970) * 12 + start_at.month - 1
    if _month_start(month) < period.start:
        month += 1
    runs: list[tuple[int, int, int]] = []
    while _month_start(month + 1) <= period.end:
        low, high = _month_start(month), _month_start(month + 1)
        if not any(low < second < high for second, _ in period.offsets[1:]):
            offset = [o for second, o in period.offsets if second <= low][-1]
            if runs and runs[-1][1] == month and runs[-1][2] == offset:
                runs[-1] = (runs[-1][0], month + 1, offset)
            else:
                runs.append((month, month + 1, offset))
        month += 1
    return runs


def _week_time_reads(period: Period, by: str, times: TimeRollups
                     ) -> tuple[list[tuple[Table, int, int]], Any] | None:
    """For an hour, weekday or weekday-hour report: the whole months of constant offset from
    the week-quarter rollup (672 rows a month and currency), the rest from the hourly or
    quarter-hour rollup; and the group key of each table. None when the period has no such
    month, or ``times`` no week-quarter rollup."""
    runs = _constant_months(period)
    week = times.week_quarters
    if by not in {"hour", "weekday", "weekday-hour"} or not runs or week is None:
        return None
    rest_ranges, unit = _time_ranges(period, times.quarters, times.hours)
    rest_table = rest_ranges[0][0]
    ranges = [(week.table, first, end) for first, end, _ in runs]
    cut = [period.start] + [s for first, end, _ in runs
                            for s in (_month_start(first), _month_start(end))] + [period.end]
    for low, high in zip(cut[::2], cut[1::2], strict=True):
        if low < high:
            ranges.append((rest_table, low // unit, high // unit))
    per_week = 7 * DAY_SECONDS // QUARTER_SECONDS
    # Each run's offset in quarter hours, by month.
    whens = [(week.table.c.bucket < end, offset // QUARTER_SECONDS)
             for _, end, offset in runs]

    def key_of(table: Table) -> Any:
        if table is not week.table:
            return _time_key(_local_units(table.c.bucket, period, unit), unit, by)
        local = (table.c.week_quarter + case(*whens, else_=runs[-1][2] // QUARTER_SECONDS)
                 + per_week) % per_week
        hour = (local % 96) // 4
        if by == "hour":
            return hour
        if by == "weekday":
            return local // 96
        return (local // 96) * 24 + hour
    return ranges, key_of


@dataclass(frozen=True)
class Filters:
    """What a report is narrowed to; None: everything."""

    account: str | None = None
    product: str | None = None
    affiliate: str | None = None
    country: str | None = None
    # The click rollups' terms for affiliate and product (``affiliates_report`` sets them).
    affiliate_id: int | None = None
    product_id: int | None = None

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set."""
        return any(getattr(self, name) is not None for name in FILTER_DIMENSIONS)

    @property
    def only(self) -> str | None:
        """The filter set, when it is the only one (a filtered rollup has that filter's
        column alone: two filters are read from the wide rollups)."""
        chosen = [name for name in FILTER_DIMENSIONS if getattr(self, name) is not None]
        return chosen[0] if len(chosen) == 1 else None


@dataclass(frozen=True)
class TimeRollups:
    """The rollups a time grouping reads: quarter hours, and where it has them, UTC hours
    and week quarters by month (``_time_ranges``, ``_week_time_reads``)."""

    quarters: Rollup
    hours: Rollup | None = None
    week_quarters: Rollup | None = None


def _sales_times(filters: Filters) -> TimeRollups:
    """The sales rollups a time grouping reads under ``filters``: the time rollups
    unfiltered, the filter's own when one filter is set, else the wide quarter hours."""
    if not filters.narrowed:
        return TimeRollups(times_q, times_h, week_quarters_m)
    if filters.only in filtered_times_q:
        return TimeRollups(filtered_times_q[filters.only], filtered_times_h[filters.only],
                           filtered_week_quarters_m[filters.only])
    return TimeRollups(sales_q)


def _sales_by(by: str, filters: Filters) -> tuple[Rollup, Rollup | None]:
    """The day and month rollups (the month's may be None) a sales grouping by ``by`` (not a
    time, not postal codes) reads under ``filters``; the ragged ends come from ``sales_q``.
    A filter with rollups of its own on the grouped dimension itself is a condition on that
    group's narrow rollup (a few values: an account, a product, a country); one affiliate of
    thousands is read from the wide rollups by its index, fewer rows than all affiliates'."""
    if not filters.narrowed or (by == filters.only and by in SALES_FILTERS):
        return narrow_d[by], narrow_m[by]
    if (filters.only, by) in filtered_d:
        return filtered_d[filters.only, by], filtered_m[filters.only, by]
    return sales_d, None


def _click_times(click_filters: Filters) -> TimeRollups:
    """As ``_sales_times``, for clicks (``click_filters`` in the click rollups' terms)."""
    if not click_filters.narrowed:
        return TimeRollups(click_times_q, click_times_h)
    if click_filters.only in click_filtered_times_q:
        return TimeRollups(click_filtered_times_q[click_filters.only],
                           click_filtered_times_h[click_filters.only])
    return TimeRollups(clicks_q)


def _clicks_by(column: str, click_filters: Filters) -> tuple[Rollup, Rollup | None]:
    """As ``_sales_by``, for clicks grouped by ``column``."""
    if not click_filters.narrowed or (column == click_filters.only and column in CLICK_FILTERS):
        return click_narrow_d[column], click_narrow_m[column]
    if (click_filters.only, column) in click_filtered_d:
        return (click_filtered_d[click_filters.only, column],
                click_filtered_m[click_filters.only, column])
    return clicks_d, None


def _sums(ranges: list[Any], key_of: Any, filters: Filters,
          measures: Iterable[str], extra_keys: Iterable[str] = ("currency",)
          ) -> tuple[list[Any], Any]:
    """``GROUP BY`` key (+ ``extra_keys``) of ``measures`` summed over the bucket ranges
    (``(table, low, high)`` or ``Read``: those with sign -1 are taken away)."""
    measures, extra_keys = list(measures), list(extra_keys)
    parts = []
    for table, low, high, sign, where in (Read(*r) for r in ranges):
        c = table.c
        negated = sign < 0
        conditions = [c.bucket >= low, c.bucket < high]
        if where is not None:
            conditions.append(where)
        for name in FILTER_DIMENSIONS:
            wanted = getattr(filters, name)
            if wanted is not None and name in c:
                conditions.append(c[name] == wanted)
        parts.append(select(key_of(table).label("key"), *(c[k] for k in extra_keys),
                            *((-c[m]).label(m) if negated else c[m] for m in measures)
                            ).where(and_(*conditions)))
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    return [
        rows.c.key, *(rows.c[k] for k in extra_keys),
        *(type_coerce(func.sum(rows.c[m]), Money()) if _is_money(m)
          else func.sum(rows.c[m]) for m in measures),
    ], rows


def _is_money(measure: str) -> bool:
    return measure in {"gross", "refund_amount", "chargeback_amount", "commissions"}


def _grouped(connection: Connection, ranges: list[Any], key_of: Any,
             filters: Filters, measures: Iterable[str],
             extra_keys: Iterable[str] = ("currency",), by_gross: bool | None = None
             ) -> list[Any]:
    """The sums (``_sums``); ``by_gross`` True: ordered by gross, largest first, then by key;
    False: by key; None: unordered. The database orders them: sorting tens of thousands of
    rows by a Decimal in Python cost more than building them."""
    measures, extra_keys = list(measures), list(extra_keys)
    columns, rows = _sums(ranges, key_of, filters, measures, extra_keys)
    groups = [rows.c.key, *(rows.c[k] for k in extra_keys)]
    statement = select(*columns).group_by(*groups)
    if by_gross is not None:
        key = rows.c.key
        if by_gross and connection.dialect.name == "postgresql":
            key = key.collate("C")  # code point order, as Python's (SQLite's is already)
        gross = columns[1 + len(extra_keys) + measures.index("gross")]
        statement = statement.order_by(gross.desc(), key) if by_gross else statement.order_by(key)
    return connection.execute(statement).all()


def _grouped_signed(connection: Connection, period: Period, quarters: Rollup, days: Rollup,
                    months: Rollup, years: Rollup, key_of: Any, measures: Iterable[str],
                    extra_keys: Iterable[str] = ("currency",), by_gross: bool | None = None,
                    counts_only: bool = False) -> list[Any]:
    """``_grouped`` over ``_signed_ranges`` (unfiltered): the same rows as over the plain
    cover. A group whose signed sums are all zero may have had rows only in what was taken
    away: it is kept only when the plain cover has a row of it (as the plain read would have
    given it, with the same zero sums). ``counts_only``: every rollup row counts at least one
    (clicks), so a zero sum means no row in the range, and no look is needed."""
    measures, extra_keys = list(measures), list(extra_keys)
    ranges = _signed_ranges(period, quarters, days, months, years)
    raw = _grouped(connection, ranges, key_of, Filters(), measures, extra_keys, by_gross)
    if all(read.sign > 0 for read in ranges):
        return raw
    width = 1 + len(extra_keys)
    zero = [row for row in raw if not any(row[width:])]
    if not zero:
        return raw
    present: set[tuple[Any, ...]] = set()
    if not counts_only:
        wanted = sorted({row[0] for row in zero})
        parts = [select(key_of(t).label("key"), *(t.c[k] for k in extra_keys)).where(
                     t.c.bucket >= low, t.c.bucket < high, key_of(t).in_(wanted))
                 for t, low, high in _bucket_ranges(period, quarters, days, months, years)]
        statement = union(*parts) if len(parts) > 1 else parts[0]
        present = {tuple(row) for row in connection.execute(statement).all()}
    return [row for row in raw if any(row[width:]) or tuple(row[:width]) in present]


# --- the sales report ------------------------------------------------------------------------

class SalesRow(NamedTuple):
    """One group's figures in one currency. A named tuple: a long report makes tens of
    thousands of them, and a tuple is made in under a third of a frozen dataclass's time."""

    key: str
    currency: str
    orders: int
    gross: Decimal
    refunds: int
    refund_amount: Decimal
    chargebacks: int
    chargeback_amount: Decimal
    commissions: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.refund_amount - self.chargeback_amount

    @property
    def refund_rate(self) -> Decimal | None:
        """Refunds per order (None without orders)."""
        return count_rate(self.refunds, self.orders) if self.orders else None


@lru_cache(maxsize=65536)
def count_rate(part: int, whole: int) -> Decimal:
    """``part / whole`` rounded half up to 4 places. Cached: a long report asks for the same
    few small ratios (1 refund in 9 orders, ...) on most of its rows."""
    return (Decimal(part) / whole).quantize(_RATE, ROUND_HALF_UP)


def _sales_rows(raw: list[Any], label: Any) -> list[SalesRow]:
    """Rows of ``raw`` (a key, the currency and ``SALES_MEASURES``, as ``_grouped`` orders
    them): the ledger currency's first, then the other currencies' alphabetically, each in
    ``raw``'s order. The sums are never NULL (every group has a row, every measure is NOT
    NULL) and the amounts come back as exact cents (typed ``Money``)."""
    per_currency: dict[str, list[SalesRow]] = {}
    for key, currency, orders, gross, refunds, refunded, chargebacks, charged, earned in raw:
        rows = per_currency.get(currency)
        if rows is None:
            rows = per_currency[currency] = []
        rows.append(SalesRow(label(key), currency, int(orders), gross, int(refunds), refunded,
                             int(chargebacks), charged, earned))
    ledger = ledger_currency()
    return [row for currency in sorted(per_currency, key=lambda c: (c != ledger, c))
            for row in per_currency[currency]]


def sales_report(connection: Connection, by: str, period: Period,
                 filters: Filters = Filters()) -> list[SalesRow]:
    """Orders, gross, refunds, chargebacks, commissions per group of ``by`` and currency (the
    ledger currency first), over ``period``."""
    if by not in SALES_GROUPS:
        raise DomainError(f"unknown group {by!r}: one of {', '.join(SALES_GROUPS)}")
    if by in TIME_GROUPS:
        times = _sales_times(filters)
        week = _week_time_reads(period, by, times)
        if week is not None:
            raw = _grouped(connection, week[0], week[1], filters, SALES_MEASURES,
                           by_gross=False)
            return _sales_rows(raw, lambda v: _time_label(by, int(v)))
        ranges, key_of = _time_reads(connection, period, times, by)
        raw = _grouped(connection, ranges, key_of, filters, SALES_MEASURES, by_gross=False)
        return _sales_rows(raw, lambda v: _time_label(by, int(v)))
    if by == "postal" and filters.narrowed:
        ranges = _bucket_ranges(period, postal_q, postal_d)
    elif by in narrow_y and not filters.narrowed:
        quarters = postal_q if by == "postal" else sales_q
        raw = _grouped_signed(connection, period, quarters, narrow_d[by], narrow_m[by],
                              narrow_y[by], lambda table: table.c[by], SALES_MEASURES,
                              by_gross=True)
        return _sales_rows(raw, str)
    else:
        ranges = _bucket_ranges(period, sales_q, *_sales_by(by, filters))
    raw = _grouped(connection, ranges, lambda table: table.c[by], filters, SALES_MEASURES,
                   by_gross=True)
    return _sales_rows(raw, str)


# --- today, live -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TodayReport:
    day: date
    zone: str
    total: list[SalesRow]
    accounts: list[SalesRow]
    minutes: list[SalesRow]


def today_report(connection: Connection, zone: ZoneInfo, account: str | None = None,
                 now: datetime | None = None) -> TodayReport:
    """Today's sales, refunds and chargebacks in ``zone``: in total, per account and per
    minute (of every account together, or of ``account`` alone), from the per-minute rollup
    that each stored notification and commission adds to in its own transaction."""
    day = today_in(zone, now)
    period = make_period(day, day, zone, 1)
    ranges = [(minutes.table, period.start // MINUTE_SECONDS,
               period.end // MINUTE_SECONDS)]
    filters = Filters(account=account)

    def minute_of_day(table: Table) -> Any:
        return _local_units(table.c.bucket, period, MINUTE_SECONDS) % (DAY_SECONDS // 60)

    per_minute = _grouped(connection, ranges, minute_of_day, filters, SALES_MEASURES,
                          by_gross=False)
    total = _grouped(connection, ranges, lambda table: literal("all"), filters, SALES_MEASURES,
                     by_gross=False)
    accounts = _grouped(connection, ranges, lambda table: table.c.account, filters,
                        SALES_MEASURES, by_gross=True)
    return TodayReport(
        day=day, zone=zone.key,
        total=_sales_rows(total, str),
        accounts=_sales_rows(accounts, str),
        minutes=_sales_rows(per_minute, lambda v: _time_label("minute", int(v))),
    )


# --- affiliates and links --------------------------------------------------------------------

class AffiliateRow(NamedTuple):
    """Clicks and what they earned, for one group in one currency (a named tuple, as
    ``SalesRow``)."""

    key: str
    currency: str
    clicks: int
    sales: int | None  # None when grouped by link: a sale does not say which link it came by
    commissions: Decimal | None

    @property
    def conversion_rate(self) -> Decimal | None:
        """Sales per click."""
        if self.sales is None or not self.clicks:
            return None
        return count_rate(self.sales, self.clicks)

    @property
    def earnings_per_click(self) -> Decimal | None:
        """Commission per click."""
        if self.commissions is None or not self.clicks:
            return None
        return (self.commissions / self.clicks).quantize(_RATE, ROUND_HALF_UP)


def affiliates_report(connection: Connection, by: str, period: Period,
                      filters: Filters = Filters()) -> list[AffiliateRow]:
    """Clicks, sales, conversion rate and earnings per click per group of ``by`` (affiliate,
    product, link, day or country) and currency, over ``period``."""
    if by not in AFFILIATE_GROUPS:
        raise DomainError(f"unknown group {by!r}: one of {', '.join(AFFILIATE_GROUPS)}")
    if filters.account is not None:
        raise DomainError("the affiliates report has no account filter: clicks have no account")
    click_filters = _click_filters(connection, filters)
    click_column = {"affiliate": "affiliate_id", "product": "product_id",
                    "link": "link_id"}.get(by, by)
    if by == "day":
        click_ranges, click_key = _time_reads(connection, period,
                                              _click_times(click_filters or Filters()), "day")
        sale_ranges, sale_key = _time_reads(connection, period, _sales_times(filters), "day")
    else:
        click_ranges = _bucket_ranges(period, clicks_q,
                                      *_clicks_by(click_column, click_filters or Filters()))
        # By link: no sales (a sale does not say which link it came by).
        sale_ranges = [] if by == "link" else _bucket_ranges(period, sales_q,
                                                             *_sales_by(by, filters))

        def click_key(table: Table) -> Any:
            return table.c[click_column]

        def sale_key(table: Table) -> Any:
            return table.c[by]
    clicks: dict[Any, int] = {}
    if (click_filters is not None and not click_filters.narrowed
            and click_column in click_narrow_y):
        clicks = {key: int(n) for key, n in _grouped_signed(
            connection, period, clicks_q, click_narrow_d[click_column],
            click_narrow_m[click_column], click_narrow_y[click_column], click_key, ["clicks"],
            extra_keys=(), counts_only=True)}
    elif click_filters is not None:
        clicks = {key: int(n) for key, n in _grouped(
            connection, click_ranges, click_key, click_filters, ["clicks"], extra_keys=())}
    labels = _click_labels(connection, by, list(clicks))
    clicks = _merge_by_label(clicks, labels)
    sales: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    if by in narrow_y and not filters.narrowed:
        sale_rows = _grouped_signed(connection, period, sales_q, narrow_d[by], narrow_m[by],
                                    narrow_y[by], sale_key, ["orders", "commissions"])
    elif by != "link":
        sale_rows = _grouped(connection, sale_ranges, sale_key, filters,
                             ["orders", "commissions"])
    if by != "link":
        for key, currency, orders, earned in sale_rows:
            label = _time_label("day", int(key)) if by == "day" else str(key)
            sales[label][currency] = (int(orders), earned)  # sums: never NULL, in cents
    ledger = ledger_currency()
    rows = []
    for label in set(clicks) | set(sales):
        per_currency = sales.get(label) or {ledger: (0, _ZERO)}
        for currency, (orders, earned) in per_currency.items():
            rows.append(AffiliateRow(
                label, currency, clicks.get(label, 0),
                None if by == "link" else orders, None if by == "link" else earned))
    if by == "day":
        return sorted(rows, key=lambda r: (r.currency != ledger, r.currency, r.key))
    return sorted(rows, key=lambda r: (r.currency != ledger, r.currency, -r.clicks, r.key))


def _click_filters(connection: Connection, filters: Filters) -> Filters | None:
    """``filters`` in the click rollups' terms (ids); None when they match no click."""
    affiliate_id = product_id = None
    if filters.affiliate is not None:
        affiliate_id = connection.scalar(
            select(Affiliate.id).where(Affiliate.code == filters.affiliate))
        if affiliate_id is None:
            return None
    if filters.product is not None:
        if not (filters.product.isascii() and filters.product.isdigit()):
            return None
        product_id = int(filters.product)
    return Filters(country=filters.country, affiliate_id=affiliate_id, product_id=product_id)


def _click_labels(connection: Connection, by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "affiliate" and keys:
        return dict(connection.execute(select(Affiliate.id, Affiliate.code).where(
            _among(connection, Affiliate.id, keys))).all())
    if by == "link" and keys:
        return dict(connection.execute(select(ReferralLink.id, ReferralLink.url).where(
            _among(connection, ReferralLink.id, keys))).all())
    if by == "product":
        return {k: (str(k) if k else "") for k in keys}
    if by == "day":
        return {k: _time_label("day", int(k)) for k in keys}
    return {k: str(k) for k in keys}


def _merge_by_label(counts: dict[Any, int], labels: dict[Any, str]) -> dict[str, int]:
    merged: dict[str, int] = defaultdict(int)
    for key, n in counts.items():
        merged[labels.get(key, str(key))] += n
    return dict(merged)
