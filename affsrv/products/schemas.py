"""Shapes of product input from the CLI and admin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates


class ProductCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=2048))
    sku = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}\Z"))
    commission_rate = fields.Decimal(load_default=None, places=3, allow_nan=False)

    @validates("commission_rate")
    def _rate_range(self, value: Decimal | None, **_: Any) -> None:
        if value is not None and not Decimal(0) <= value <= Decimal(100):
            raise ValidationError("must be a percentage from 0 to 100")
