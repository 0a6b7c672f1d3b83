"""The reports' query (HTTP parameters and CLI options alike) and their answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from affsrv.errors import DomainError
from affsrv.reports.services import (
    AFFILIATE_GROUPS,
    SALES_GROUPS,
    Filters,
    Period,
    make_period,
    this_month,
    zone_named,
)
from affsrv.validation import format_errors

FORMATS = ("json", "csv")


class _QuerySchema(Schema):
    """``by`` is checked against the report's own groups (``parse_query``)."""

    class Meta:
        unknown = EXCLUDE  # e.g. the ``key`` parameter

    by = fields.String(load_default=None)
    from_ = fields.Date(data_key="from", format="%Y-%m-%d", load_default=None)
    to = fields.Date(format="%Y-%m-%d", load_default=None)
    tz = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    account = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    product = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    affiliate = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    country = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z]{2}\Z", error="two letters (ISO 3166), such as US"))
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


_query = _QuerySchema()


@dataclass(frozen=True)
class ReportQuery:
    by: str | None
    period: Period
    filters: Filters
    format: str


def parse_query(values: Mapping[str, Any], report: str, default_zone: str,
                max_days: int) -> ReportQuery:
    """The report query ``values`` (strings, as HTTP parameters or CLI options give them;
    None for absent) for ``report`` (sales, affiliates or today); a ``DomainError`` saying what
    is wrong. Dates default to this month in the zone."""
    try:
        data = _query.load({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    groups = {"sales": SALES_GROUPS, "affiliates": AFFILIATE_GROUPS}.get(report)
    if groups is not None:
        if data["by"] is None:
            raise DomainError(f"by: required, one of {', '.join(groups)}")
        if data["by"] not in groups:
            raise DomainError(f"by: unknown group {data['by']!r}; one of {', '.join(groups)}")
    zone = zone_named(data["tz"] or default_zone)
    first, last = this_month(zone)
    first = data["from_"] or (data["to"].replace(day=1) if data["to"] else first)
    last = data["to"] or max(first, last)
    country = data["country"].upper() if data["country"] else None
    period = make_period(first, last, zone, max_days)
    return ReportQuery(
        data["by"], period,
        Filters(account=data["account"], product=data["product"],
                affiliate=data["affiliate"], country=country),
        data["format"],
    )


class Fixed(fields.Field):
    """A ``Decimal`` as a string with ``places`` decimals (None as null). The services round
    already (amounts to cents, rates half up to 4 places): this only formats, which is most of
    what a long report costs to answer (marshmallow's Decimal field quantizes each value
    again)."""

    def __init__(self, places: int, **kwargs: Any) -> None:
        super().__init__(dump_only=True, **kwargs)
        self._format = f".{places}f"
        self._point = -places - 1  # where str() puts the point in a value of ``places``

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return self.value_of(value)

    def value_of(self, value: Any) -> str | None:
        if value is None:
            return None
        # str() of a Decimal with exactly ``places`` decimals (what the services give) is
        # format()'s answer, and 5 times faster; anything else is formatted.
        shown = str(value)
        if shown[self._point:self._point + 1] == ".":
            return shown
        return format(value, self._format)


class Count(fields.Field):
    """A whole number (None as null)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return self.value_of(value)

    def value_of(self, value: Any) -> int | None:
        return None if value is None else int(value)


class Text(fields.String):
    """marshmallow's String, whose value alone ``RowsSchema`` can format."""

    def value_of(self, value: Any) -> str | None:
        return None if value is None else str(value)


class RowsSchema(Schema):
    """A schema of flat rows (objects with an attribute per field, such as the services' named
    tuples) that dumps a list of them in one loop: each row's attributes read by one
    ``attrgetter``, each value formatted by its field's ``value_of``. The same dicts as
    marshmallow's own dump, without its per-field dispatch (get_value, accessor, serialize,
    for every field of every row: most of the 8 to 14 µs a row that long reports cost to
    answer, docs/reports.md).
    A single row, mapping rows or fields without ``value_of`` take marshmallow's own path."""

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        if not many or obj is None:
            return super()._serialize(obj, many=many)
        rows = list(obj)
        plan = self._row_plan()
        if plan is None or (rows and isinstance(rows[0], Mapping)):
            return super()._serialize(rows, many=True)
        keys, values_of, formatters = plan
        return [{key: formatter(value)
                 for key, formatter, value in zip(keys, formatters, values_of(row), strict=True)}
                for row in rows]

    def _row_plan(self) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]],
                                 tuple[Callable[[Any], Any], ...]] | None:
        keys, attributes, formatters = [], [], []
        for name, field in self.dump_fields.items():
            value_of = getattr(field, "value_of", None)
            if value_of is None:
                return None
            keys.append(field.data_key if field.data_key is not None else name)
            attributes.append(field.attribute or name)
            formatters.append(value_of)
        if len(attributes) < 2:  # attrgetter of one name gives the value, not a tuple
            return None
        return tuple(keys), attrgetter(*attributes), tuple(formatters)


class SalesRowSchema(RowsSchema):
    key = Text()
    orders = Count()
    gross = Fixed(2)
    refunds = Count()
    refund_amount = Fixed(2)
    chargebacks = Count()
    chargeback_amount = Fixed(2)
    net = Fixed(2)
    commissions = Fixed(2)
    refund_rate = Fixed(4)
    currency = Text()


class AffiliateRowSchema(RowsSchema):
    key = Text()
    clicks = Count()
    sales = Count()
    conversion_rate = Fixed(4)
    commissions = Fixed(2)
    earnings_per_click = Fixed(4)
    currency = Text()


class TodaySchema(Schema):
    day = fields.Date(format="%Y-%m-%d")
    zone = fields.String()
    total = fields.Nested(SalesRowSchema, many=True)
    accounts = fields.Nested(SalesRowSchema, many=True)
    minutes = fields.Nested(SalesRowSchema, many=True)


sales_rows = SalesRowSchema(many=True)
affiliate_rows = AffiliateRowSchema(many=True)
today_answer = TodaySchema()


def today_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Today's report as one table: ``part`` says whether a row is the total, an account or a
    minute."""
    return [{"part": part, **row} for part in ("total", "accounts", "minutes")
            for row in answer[part]]


def as_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """``rows`` as CSV (the csv module's quoting), a header line first; None is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # it writes None as empty
    writer.writerow(columns)
    writer.writerows([row.get(k) for k in columns] for row in rows)
    return out.getvalue()


SALES_COLUMNS = list(SalesRowSchema().fields)
AFFILIATE_COLUMNS = list(AffiliateRowSchema().fields)
TODAY_COLUMNS = ["part", *SALES_COLUMNS]
