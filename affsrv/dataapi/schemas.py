"""Request and response shapes of the JSON API, as the Data API page specifies them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from affsrv.fields import IdField, IPField, MoneyField

OPS = ("info", "commissions", "payments", "referrals")
# `custom` is free-form JSON passed on to the admin's e-mail and the API log. Bounded so that a
# call is refused (400) before anything is written, rather than stored and then failed by a
# later step: objects and arrays at most MAX_CUSTOM_DEPTH levels deep (custom itself is the
# first), and at most MAX_CUSTOM_CHARS characters as compact JSON.
MAX_CUSTOM_DEPTH = 5
MAX_CUSTOM_CHARS = 10_000
COMMISSION_TYPES = ("sale", "refund", "chargeback")


class _Lenient(Schema):
    class Meta:
        # Existing clients send extra keys; they are ignored, never an error.
        unknown = EXCLUDE


class DataOpSchema(_Lenient):
    op = fields.String(
        required=True,
        validate=validate.OneOf(OPS, error="unknown op {input!r}: use " + ", ".join(OPS)),
    )
    product = IdField(load_default=None)


class ReferrerSchema(_Lenient):
    url = fields.String(load_default="", allow_none=True, validate=validate.Length(max=2048))
    ip = IPField(load_default="", allow_none=True)
    product = IdField(load_default=None, allow_none=True)


class CommissionSchema(_Lenient):
    product = IdField(required=True)
    saletotal = MoneyField(load_default=None, positive=True)
    commtotal = MoneyField(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z]{3}\Z"))
    notes = fields.String(load_default="", allow_none=True, validate=validate.Length(max=10000))
    ip = IPField(load_default="", allow_none=True)
    ref = fields.String(load_default=None, validate=validate.Length(min=1, max=128))
    type = fields.String(
        load_default="sale",
        validate=validate.OneOf(COMMISSION_TYPES, error="must be sale, refund or chargeback"),
    )

    @validates_schema
    def _by_type(self, data: dict[str, Any], **_: Any) -> None:
        if data["type"] == "sale" and data.get("saletotal") is None:
            raise ValidationError("is required", "saletotal")
        if data["type"] != "sale" and not data.get("ref"):
            raise ValidationError(f"is required for a {data['type']}: the sale's ref", "ref")


def _custom_within_limits(custom: dict[str, Any]) -> None:
    """Refuse a ``custom`` deeper or larger than the limits above. The depth is measured
    without recursion (the body may nest as deep as the JSON parser allows); only then is it
    encoded to measure its size."""
    waiting: list[tuple[Any, int]] = [(custom, 1)]
    while waiting:
        value, depth = waiting.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_CUSTOM_DEPTH:
            raise ValidationError(
                f"must not nest objects or arrays more than {MAX_CUSTOM_DEPTH} levels deep"
            )
        items = value.values() if isinstance(value, dict) else value
        waiting.extend((item, depth + 1) for item in items)
    size = len(json.dumps(custom, ensure_ascii=False, separators=(",", ":"), default=str))
    if size > MAX_CUSTOM_CHARS:
        raise ValidationError(
            f"must be at most {MAX_CUSTOM_CHARS} characters as JSON (got {size})"
        )


class YesNo(fields.Field):
    """``"yes"``/``"no"`` as the reference sends them (booleans accepted too)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"yes", "no"}:
            return value.strip().lower() == "yes"
        raise ValidationError('must be "yes" or "no"')


class EmailsSchema(_Lenient):
    affiliate = YesNo(load_default=True)
    admin = YesNo(load_default=True)


class _CallSchema(_Lenient):
    """What every call carries."""

    apikey = fields.String(required=True)
    affiliate = fields.String(required=True, validate=validate.Length(min=1, max=64))


class DataCallSchema(_CallSchema):
    data = fields.Nested(DataOpSchema, required=True)


class ReferrerCallSchema(_CallSchema):
    referrer = fields.Nested(ReferrerSchema, required=True)


class CommissionCallSchema(_CallSchema):
    commission = fields.Nested(CommissionSchema, required=True)
    emails = fields.Nested(EmailsSchema, load_default=lambda: {"affiliate": True, "admin": True})
    custom = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        values=fields.Raw(),
        load_default=dict,
        validate=[validate.Length(max=50), _custom_within_limits],
    )

    def __init__(self, max_saletotal: Decimal, currency: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_saletotal = max_saletotal
        self.currency = currency

    @validates_schema
    def _sale_limit(self, data: dict[str, Any], **_: Any) -> None:
        sale = data["commission"].get("saletotal")
        if sale is not None and sale > self.max_saletotal:
            raise ValidationError(
                {"commission": {"saletotal": [f"must not exceed {self.max_saletotal}"]}}
            )

    @validates_schema
    def _ledger_currency(self, data: dict[str, Any], **_: Any) -> None:
        # The Data API's totals carry no currency and affsrv converts none: amounts in another
        # currency would be added to these as if they were the same money.
        sent = data["commission"].get("currency")
        if sent is not None and sent != self.currency:
            raise ValidationError({"commission": {"currency": [
                f"must be {self.currency}: affsrv keeps commissions in one currency "
                f"(commissions.currency); send saletotal and commtotal in {self.currency}"
            ]}})


CALLS = ("data", "referrer", "commission")


def call_kind(body: dict[str, Any]) -> str:
    """Which call a request body makes: the one of ``CALLS`` it carries (a key sent as null
    counts as absent). Each has its own schema, so a call is validated by its shape only."""
    given = [k for k in CALLS if body.get(k) is not None]
    if len(given) != 1:
        raise ValidationError(
            "send exactly one of data, referrer or commission"
            + (f" (got {', '.join(given)})" if given else "")
        )
    return given[0]


# The totals ops answer a map of dozens of items (a product's or a payment method's totals).
# Each schema below dumps the answer's "data" whole, in one field: a schema dump per item pays
# marshmallow's per-field overhead for every value, several times the formatting itself. The
# functions spell out each item's shape, as the seed gives it, from the services' rows, whose
# amounts the database has already written with their two decimals (``money_text``).


def _commissions(rows: list[tuple[int, int, str, str, int]]) -> dict[str, dict[str, str]]:
    return {
        str(product): {
            "commissions": str(count),
            "sale_total": sale_total,
            "commission_total": commission_total,
            "last_commission": str(last),
        }
        for product, count, sale_total, commission_total, last in rows
    }


def _payments(rows: list[tuple[str, int, str, int]]) -> dict[str, dict[str, str]]:
    return {
        method: {"payments": str(count), "payment_total": total, "last_payment": str(last)}
        for method, count, total, last in rows
    }


def _referrals(rows: list[tuple[int, str, int]]) -> dict[str, dict[str, list[dict[str, str]]]]:
    # Rows come ordered by product (``referral_stats``): one pass nests them.
    data: dict[str, dict[str, list[dict[str, str]]]] = {}
    last = None
    for product, link, count in rows:
        if product != last:
            referrers: list[dict[str, str]] = []
            data[str(product)] = {"referrers": referrers}
            last = product
        referrers.append({"count": str(count), "link": link})
    return data


class CommissionTotalsSchema(Schema):
    """`commissions`: approved commissions per product id (``commission_totals``)."""

    data = fields.Function(_commissions)


class PaymentTotalsSchema(Schema):
    """`payments`: payments per method (``payment_totals``)."""

    data = fields.Function(_payments)


class ReferralStatsSchema(Schema):
    """`referrals`: clicks per referring link, per product id (``referral_stats``)."""

    data = fields.Function(_referrals)
