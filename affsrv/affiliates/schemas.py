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


# Never answered, whatever the merchant named an extra field.
_SECRET_KEYS = frozenset({"password", "password_hash"})


def _info(a: Any) -> dict[str, str]:
    """The record's fields in the seed's order, every value a string, then the merchant's extra
    fields (``a``: a row of ``get_affiliate_record``, ``ts`` its creation in Unix seconds)."""
    info = {
        "id": str(a.id),
        "ts": str(a.ts),
        "code": a.code,
        "fname": a.fname,
        "lname": a.lname,
        "email": a.email,
        "ip": a.ip or "",
        "commtier": _percent(a.commtier),
        "payinfo": a.payinfo or "",
        "notes": a.notes or "",
        "approved": _yes_no(a.approved),
        "en": _yes_no(a.enabled),
    }
    for key, value in (a.extra or {}).items():
        if key not in info and key.lower() not in _SECRET_KEYS:
            info[key] = "" if value is None else str(value)
    return info


class AffiliateInfoSchema(Schema):
    """The Data API's `info` answer, ``{"data": ...}``: never the password. One field for the
    whole record, as the totals ops' schemas (``affsrv.dataapi.schemas``): a field per value
    paid marshmallow's per-field overhead a dozen times a call."""

    data = fields.Function(_info)
