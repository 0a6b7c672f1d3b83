"""Query parameters of ``/rest/1.3/products``, with the rules the Products seed states."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from affsrv.fields import MoneyField
from affsrv.restapi.schemas.common import QueryBool, QueryInt, QuerySchema, Site, text

LANGUAGES = ("DE", "EN", "ES", "FR", "IT", "PT")
CATEGORIES = ("EBOOK", "SOFTWARE", "GAMES", "AUDIO", "VIDEO", "MEMBER_SITE")
# The seed's PUT list, plus HALF_YEARLY which its XSD (recurringFrequency) and the OpenAPI
# file also allow.
FREQUENCIES = ("WEEKLY", "BI_WEEKLY", "MONTHLY", "QUARTERLY", "HALF_YEARLY", "YEARLY")
# Currencies ClickBank accepts (the OpenAPI file's Currency).
CURRENCIES = (
    "ARS", "AUD", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF",
    "IDR", "INR", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RUB", "SEK", "SGD",
    "THB", "TRY", "USD", "ZAR",
)
PRODUCT_TYPES = ("STANDARD", "RECURRING")
SKU = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


def one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="must be one of " + ", ".join(choices))


class SiteSchema(QuerySchema):
    site = Site(required=True)


class ListSchema(SiteSchema):
    type = fields.String(load_default=None, validate=one_of(PRODUCT_TYPES))


class Url(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=[
            validate.Length(max=2048),
            validate.URL(schemes={"http", "https"}, require_tld=False,
                         error="must be an http(s) URL"),
        ], **kwargs)


class Percent(fields.Field):
    """A commission rate in percent, 0 to 100, such as 50 or 7.5."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        raw = value.strip() if isinstance(value, str) else ""
        try:
            rate = Decimal(raw) if re.match(r"^[0-9]{1,3}(\.[0-9]{1,3})?\Z", raw) else None
        except InvalidOperation:
            rate = None
        if rate is None or rate > 100:
            raise ValidationError("must be a percentage from 0 to 100, such as 50 or 7.5")
        return rate


class ProductPutSchema(QuerySchema):
    """Every parameter of ``PUT products/{sku}`` (the seed's list), read from the query."""

    currency = fields.String(required=True, validate=one_of(CURRENCIES))
    language = fields.String(required=True, validate=one_of(LANGUAGES))
    price = MoneyField(required=True, positive=True)
    site = Site(required=True)
    title = text(255, required=True)
    categories = fields.List(fields.String(validate=one_of(CATEGORIES)), load_default=list)
    delivery_method = text(100, data_key="deliveryMethod", load_default=None)
    delivery_speed = text(100, data_key="deliverySpeed", load_default=None)
    description = text(5000, load_default=None)
    digital = QueryBool(load_default=False)
    digital_recurring = QueryBool(data_key="digitalRecurring", load_default=False)
    physical = QueryBool(load_default=False)
    physical_recurring = QueryBool(data_key="physicalRecurring", load_default=False)
    duration = QueryInt(minimum=1, maximum=999, load_default=None)
    frequency = fields.String(load_default=None, validate=one_of(FREQUENCIES))
    pitch_page = Url(data_key="pitchPage", load_default=None)
    mobile_pitch_page = Url(data_key="mobilePitchPage", load_default=None)
    rebill_price = MoneyField(data_key="rebillPrice", positive=True, load_default=None)
    shipping_profile = text(100, data_key="shippingProfile", load_default=None)
    thank_you_page = Url(data_key="thankYouPage", load_default=None)
    mobile_thank_you_page = Url(data_key="mobileThankYouPage", load_default=None)
    trial_period = QueryInt(data_key="trialPeriod", minimum=0, maximum=31, load_default=None)
    image = QueryInt(minimum=1, maximum=2**31 - 1, load_default=None)
    pre_rebill_lead_time = QueryInt(data_key="preRebillNotificationLeadTime", minimum=0,
                                    maximum=365, load_default=None)
    pre_rebill_override = QueryBool(data_key="preRebillNotificationOverride",
                                    load_default=False)
    purchase_commission = Percent(data_key="purchaseCommission", load_default=None)
    rebill_commission = Percent(data_key="rebillCommission", load_default=None)
    rebill_refund_days_limit = QueryInt(data_key="rebillRefundDaysLimit", minimum=0,
                                        maximum=3650, load_default=None)
    sale_refund_days_limit = QueryInt(data_key="saleRefundDaysLimit", minimum=0,
                                      maximum=3650, load_default=None)
    skip_confirmation_page = QueryBool(data_key="skipConfirmationPage", load_default=False)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _seed_rules(self, data: dict[str, Any], original: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        given = set(original)  # a given but invalid parameter has its own error already

        def need(name: str, key: str, why: str) -> None:
            if data.get(key) in (None, "", []) and name not in given:
                errors.setdefault(name, []).append(f"is required {why}")

        digital = data.get("digital") or data.get("digital_recurring")
        physical = data.get("physical") or data.get("physical_recurring")
        recurring = data.get("digital_recurring") or data.get("physical_recurring")
        if not (digital or physical):
            errors["_schema"] = ["give at least one component: digital, digitalRecurring, "
                                 "physical or physicalRecurring (=true)"]
        if digital:
            need("categories", "categories", "for a product with a digital component")
        elif data.get("categories"):
            errors["categories"] = ["are only for a product with a digital component"]
        if physical:
            for name, key in (("deliveryMethod", "delivery_method"),
                              ("deliverySpeed", "delivery_speed"),
                              ("description", "description"),
                              ("shippingProfile", "shipping_profile")):
                need(name, key, "for a product with a physical component")
        if recurring:
            for name, key in (("duration", "duration"), ("frequency", "frequency"),
                              ("rebillPrice", "rebill_price"), ("trialPeriod", "trial_period")):
                need(name, key, "for a recurring product")
        trial = data.get("trial_period")
        if trial is not None and 0 < trial < 3:
            errors.setdefault("trialPeriod", []).append("must be 0 or a whole number from 3 "
                                                        "to 31")
        if not ({"pitchPage", "mobilePitchPage"} & given):
            errors.setdefault("pitchPage", []).append(
                "give at least one pitch page: pitchPage or mobilePitchPage")
        if not ({"thankYouPage", "mobileThankYouPage"} & given):
            errors.setdefault("thankYouPage", []).append(
                "give at least one thank-you page: thankYouPage or mobileThankYouPage")
        if errors:
            raise ValidationError(errors)
