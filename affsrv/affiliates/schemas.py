"""Shapes of affiliate input (CLI, admin) and of the Data API's `info` answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from affsrv.affiliates.models import CODE_PATTERN
from affsrv.fields import IPField


class AffiliateCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    fname = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lname = fields.String(required=True, validate=validate.Length(min=1, max=100))
    code = fields.String(
        load_default=None,
        validate=validate.Regexp(CODE_PATTERN, error="use 1-64 letters, digits, '_' or '-'"),
    )
    commtier = fields.Decimal(load_default=None, places=3, allow_nan=False)
    ip = IPField(load_default="")
    payinfo = fields.String(load_default="")
    notes = fields.String(load_default="")
    password = fields.String(load_default=None, validate=validate.Length(min=8, max=200))
    pending = fields.Boolean(load_default=False)
    extra = fields.Dict(keys=fields.String(), load_default=dict)

    @validates("commtier")
    def _commtier_range(self, value: Decimal | None, **_: Any) -> None:
        if value is not None and not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("must be a percentage from 0 to 100")


class AffiliateUpdateSchema(Schema):
    """What the merchant may change of an affiliate (the dashboard's edit form)."""

    email = fields.Email(validate=validate.Length(max=254))
    fname = fields.String(validate=validate.Length(min=1, max=100))
    lname = fields.String(validate=validate.Length(min=1, max=100))
    commtier = fields.Decimal(allow_none=True, places=3, allow_nan=False)
    payinfo = fields.String(validate=validate.Length(max=10_000))
    notes = fields.String(validate=validate.Length(max=10_000))

    @validates("commtier")
    def _commtier_range(self, value: Decimal | None, **_: Any) -> None:
        if value is not None and not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("must be a percentage from 0 to 100")


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    # 17.500 -> "17.5%", 20.000 -> "20%"
    text = format(value.normalize(), "f")
    return f"{text}%"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class AffiliateInfoSchema(Schema):
    """The Data API's `info` data: every value a string, never the password."""

    id = fields.Function(lambda a: str(a.id))
    ts = fields.Function(lambda a: str(int(a.created_at.timestamp())))
    code = fields.String()
    fname = fields.String()
    lname = fields.String()
    email = fields.String()
    ip = fields.Function(lambda a: a.ip or "")
    commtier = fields.Function(lambda a: _percent(a.commtier))
    payinfo = fields.Function(lambda a: a.payinfo or "")
    notes = fields.Function(lambda a: a.notes or "")
    approved = fields.Function(lambda a: _yes_no(a.approved))
    en = fields.Function(lambda a: _yes_no(a.enabled))
