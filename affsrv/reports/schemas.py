"""The reports' query (HTTP parameters and CLI options alike) and their answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
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

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(value, self._format)


class Count(fields.Field):
    """A whole number (None as null)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value)


class SalesRowSchema(Schema):
    key = fields.String()
    orders = Count()
    gross = Fixed(2)
    refunds = Count()
    refund_amount = Fixed(2)
    chargebacks = Count()
    chargeback_amount = Fixed(2)
    net = Fixed(2)
    commissions = Fixed(2)
    refund_rate = Fixed(4)
    currency = fields.String()


class AffiliateRowSchema(Schema):
    key = fields.String()
    clicks = Count()
    sales = Count()
    conversion_rate = Fixed(4)
    commissions = Fixed(2)
    earnings_per_click = Fixed(4)
    currency = fields.String()


class TodaySchema(Schema):
    day = fields.Date(format="%Y-%m-%d")
    zone = fields.String()
    total = fields.List(fields.Nested(SalesRowSchema))
    accounts = fields.List(fields.Nested(SalesRowSchema))
    minutes = fields.List(fields.Nested(SalesRowSchema))


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
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return out.getvalue()


SALES_COLUMNS = list(SalesRowSchema().fields)
AFFILIATE_COLUMNS = list(AffiliateRowSchema().fields)
TODAY_COLUMNS = ["part", *SALES_COLUMNS]
