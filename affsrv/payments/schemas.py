"""Shapes of payment input (CLI, admin)."""

from marshmallow import Schema, fields, validate

from affsrv.fields import MoneyField


class PaymentCreateSchema(Schema):
    method = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount = MoneyField(required=True, positive=True)
    reference = fields.String(load_default="", validate=validate.Length(max=255))
    currency = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[A-Z]{3}\Z", error="must be three capital letters, e.g. EUR"),
    )
