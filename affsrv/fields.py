"""Marshmallow fields shared by the request schemas."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields

from affsrv.ipaddr import canonical_ip

# ASCII digits only: str.isdigit() and a str pattern's \d also accept other scripts' digits
# ("²", which int() refuses; "١٢", which Decimal reads as 12).
_ID_DIGITS = re.compile(r"^[0-9]{1,9}\Z")
_PLAIN_DECIMAL = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?\Z")


class MoneyField(fields.Field):
    """A money amount as a plain decimal: ``9.99``, ``"1245.76"``. No currency symbols, no
    thousands separators, at most two decimals. JSON numbers arrive as ``Decimal`` (the API
    parses floats as decimals), so no binary float ever touches an amount."""

    default_error_messages = {
        "invalid": "must be a plain decimal amount such as 9.99 or 1245.76 "
        "(no currency symbol, no thousands separator, at most two decimals)",
        "negative": "must not be negative",
        "zero": "must be more than zero",
    }

    def __init__(self, *, positive: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.positive = positive

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self.make_error("invalid")
        text = value.strip() if isinstance(value, str) else str(value)
        if isinstance(value, Decimal):
            # A JSON number arrives as any Decimal (1E+1000000 too): bounded by its magnitude
            # first (adjusted() needs no context), before anything that could overflow.
            if not value.is_finite() or not -20 < value.adjusted() < 20:
                raise self.make_error("invalid")
            # Written out exactly (normalize() would round past 28 digits, so 9.99 followed by
            # thirty more digits would pass as 9.99), then without trailing zeros: 9.990 -> 9.99,
            # 1E+2 -> 100.
            text = format(value, "f")
            if "." in text:
                text = text.rstrip("0").rstrip(".")
        if not _PLAIN_DECIMAL.match(text):
            raise self.make_error("invalid")
        amount = Decimal(text)
        if amount < 0:
            raise self.make_error("negative")
        if self.positive and amount == 0:
            raise self.make_error("zero")
        return amount.quantize(Decimal("0.01"))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:.2f}"


class IdField(fields.Field):
    """A record id sent as a number (``4``) or a numeric string (``"4"``)."""

    default_error_messages = {"invalid": "must be an id number such as 4"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and _ID_DIGITS.match(value.strip()):
            number = int(value.strip())
        elif (isinstance(value, Decimal) and value.is_finite() and value.adjusted() < 9
              and value == value.to_integral()):
            # adjusted() first: comparing 1E+1000000 would overflow decimal's context.
            number = int(value)
        else:
            raise self.make_error("invalid")
        if not 0 < number < 2**31:
            raise self.make_error("invalid")
        return number


class IPField(fields.String):
    """An IPv4 or IPv6 address, returned in its canonical text form."""

    default_error_messages = {"invalid_ip": "must be an IP address such as 203.0.113.7"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.strip() == "":
            return ""
        try:
            return canonical_ip(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid_ip"]) from None
