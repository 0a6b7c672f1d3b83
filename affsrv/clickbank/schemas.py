"""The decrypted notification's shape (versions 6.0 to 8.0, and legacy posts converted to it).

Parsing is lenient the way ClickBank needs: unknown fields are ignored here (the raw copy keeps
them), ``null`` reads as empty, numbers arrive as ``Decimal`` (never a float). What cannot be
stored faithfully (no receipt, an unreadable time, an absurd amount) is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

MAX_AMOUNT = Decimal("999999999999.99")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class Text(fields.Field):
    """A string; ``null`` is ``""``; numbers are taken as their text."""

    def __init__(self, max_length: int = 255, **kwargs: Any) -> None:
        if not kwargs.get("required"):
            kwargs.setdefault("load_default", "")
        super().__init__(allow_none=True, **kwargs)
        self.max_length = max_length

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None,
                    **kwargs: Any) -> Any:
        if value is None:
            if self.required:
                raise ValidationError("is required")
            return ""
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValidationError("must be a string")
        if isinstance(value, Decimal) and not (
            value.is_finite() and abs(value.adjusted()) < self.max_length
        ):
            # Written out in full, 1E+999999999 is a billion characters: refused, not built.
            raise ValidationError("must be a string")
        text = value if isinstance(value, str) else format(value, "f")
        # PostgreSQL text cannot hold NUL; cut to the column's length so nothing fails later.
        return text.replace("\x00", "").strip()[: self.max_length]


class Amount(fields.Field):
    """A money amount (a JSON number or numeric string), exact, rounded to cents."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValidationError("must be a number")
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise ValidationError("must be a number") from None
        # adjusted() first: abs() of 1E+1000000 would overflow decimal's context.
        if not amount.is_finite() or amount.adjusted() > 12 or abs(amount) > MAX_AMOUNT:
            raise ValidationError("must be a finite amount below one trillion")
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Flag(fields.Field):
    """``true``/``false`` (or the strings); ``null`` is false."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=False, **kwargs)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None,
                    **kwargs: Any) -> Any:
        return False if value is None else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "false", "1", "0", ""}:
            return value.strip().lower() in {"true", "1"}
        raise ValidationError("must be true or false")


class Count(fields.Field):
    def __init__(self, default: int, **kwargs: Any) -> None:
        super().__init__(allow_none=True, load_default=default, **kwargs)
        self.default = default

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None,
                    **kwargs: Any) -> Any:
        return self.default if value is None else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        try:
            amount = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValidationError("must be a whole number") from None
        # Bounded by its magnitude before int(): int(Decimal("1E+999999")) writes out a
        # million-digit number, which took 23 seconds.
        if isinstance(value, bool) or not amount.is_finite() or not amount.adjusted() < 10:
            raise ValidationError("must be a whole number from 0")
        number = int(amount)
        if not 0 <= number < 2**31:
            raise ValidationError("must be a whole number from 0")
        return number


class TransactionTime(fields.Field):
    """ISO 8601 in either form ClickBank uses: ``2023-07-28T02:07:57+00:00`` or
    ``20220810T162015-0700``. Loads as ``(utc_datetime, offset_minutes)``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any,
                     **kwargs: Any) -> tuple[datetime, int]:
        if not isinstance(value, str):
            raise ValidationError("must be an ISO 8601 time")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(f"not an ISO 8601 time: {value[:40]!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        offset = parsed.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        return parsed.astimezone(UTC), minutes


class AddressSchema(_Lenient):
    address1 = Text()
    address2 = Text()
    city = Text(100)
    county = Text(100)
    state = Text(100)
    postalCode = Text(20)  # noqa: N815 - ClickBank's field names
    country = Text(2)


class ContactSchema(_Lenient):
    firstName = Text(100)  # noqa: N815
    lastName = Text(100)  # noqa: N815
    fullName = Text(200)  # noqa: N815
    phoneNumber = Text(40)  # noqa: N815
    email = Text(254)
    address = fields.Nested(AddressSchema, allow_none=True, load_default=None)


class CustomerSchema(_Lenient):
    shipping = fields.Nested(ContactSchema, allow_none=True, load_default=None)
    billing = fields.Nested(ContactSchema, allow_none=True, load_default=None)


class LineItemSchema(_Lenient):
    itemNo = Text(64, required=True, validate=validate.Length(min=1))  # noqa: N815
    productTitle = Text()  # noqa: N815
    shippable = Flag()
    recurring = Flag()
    accountAmount = Amount()  # noqa: N815
    quantity = Count(1)
    downloadUrl = Text(2048)  # noqa: N815
    lineItemType = Text(16)  # noqa: N815
    productPrice = Amount()  # noqa: N815
    productDiscount = Amount()  # noqa: N815
    taxAmount = Amount()  # noqa: N815
    shippingAmount = Amount()  # noqa: N815
    shippingLiable = Flag()  # noqa: N815
    jvPayout = Amount()  # noqa: N815
    affiliatePayout = Amount()  # noqa: N815


class NotificationSchema(_Lenient):
    transactionTime = TransactionTime(load_default=None, allow_none=True)  # noqa: N815
    # Longer receipts or types could not be stored whole, so they are refused.
    receipt = Text(1000, required=True, validate=validate.Length(min=1, max=64))
    transactionType = Text(1000, required=True, validate=validate.Length(min=1, max=40))  # noqa: N815
    vendor = Text(64)
    affiliate = Text(64)
    role = Text(16)
    totalAccountAmount = Amount()  # noqa: N815
    paymentMethod = Text(32)  # noqa: N815
    totalOrderAmount = Amount()  # noqa: N815
    totalTaxAmount = Amount()  # noqa: N815
    totalShippingAmount = Amount()  # noqa: N815
    currency = Text(3, load_default="USD")
    orderLanguage = Text(8)  # noqa: N815
    trackingCodes = fields.List(Text(255), allow_none=True, load_default=list)  # noqa: N815
    declinedConsent = Flag()  # noqa: N815
    version = Text(8)
    attemptCount = Count(1)  # noqa: N815
    lineItems = fields.List(fields.Nested(LineItemSchema), allow_none=True,  # noqa: N815
                            load_default=list)
    customer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)
    vendorVariables = fields.Dict(keys=fields.String(), values=Text(1000),  # noqa: N815
                                  allow_none=True, load_default=dict)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["transactionType"] = data["transactionType"].upper()
        data["trackingCodes"] = data["trackingCodes"] or []
        data["lineItems"] = data["lineItems"] or []
        data["vendorVariables"] = data["vendorVariables"] or {}
        data["currency"] = (data["currency"] or "USD").upper()
        numbers = [item["itemNo"] for item in data["lineItems"]]
        if len(numbers) != len(set(numbers)):
            raise ValidationError("two line items have the same itemNo", "lineItems")
        return data
