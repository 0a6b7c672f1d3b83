"""Query parameters of ``/rest/1.3/orders2`` (the OpenAPI file's list)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from affsrv.fields import MoneyField
from affsrv.restapi.schemas.common import QueryDate, QuerySchema, text
from affsrv.restapi.schemas.products import one_of

TRANSACTION_TYPES = ("SALE", "RFND", "CGBK", "FEE", "BILL", "TEST_SALE", "TEST_BILL",
                     "TEST_RFND", "TEST_FEE")
ROLES = ("VENDOR", "AFFILIATE")


class OrdersQuerySchema(QuerySchema):
    """No ``days`` here: orders2 lists all orders unless startDate and endDate are given."""

    start_date = QueryDate(data_key="startDate", load_default=None)
    end_date = QueryDate(data_key="endDate", load_default=None)
    type = fields.String(load_default=None, validate=one_of(TRANSACTION_TYPES))
    vendor = text(64, load_default=None)
    affiliate = text(64, load_default=None)
    last_name = text(100, data_key="lastName", load_default=None)
    item = text(64, load_default=None)
    email = text(254, load_default=None)
    tid = text(255, load_default=None)
    postal_code = text(20, data_key="postalCode", load_default=None)
    role = fields.String(load_default=None, validate=one_of(ROLES))
    amount = MoneyField(load_default=None)

    @validates_schema
    def _both_dates(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if bool(start) != bool(end):
            raise ValidationError("give both startDate and endDate, or neither", "startDate")
        if start and end and start > end:
            raise ValidationError("must not be after endDate", "startDate")


class OrderGetSchema(QuerySchema):
    sku = text(64, load_default=None)
