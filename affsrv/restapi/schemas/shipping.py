"""Query parameters of ``/rest/1.3/shipping2``."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from affsrv.restapi.schemas.common import QueryBool, QueryDate, WindowSchema, text
from affsrv.restapi.schemas.products import one_of

STATUSES = ("shipped", "notshipped", "all")


class ShippingQuerySchema(WindowSchema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default="all", validate=one_of(STATUSES))
    receipt = text(64, load_default=None)


class ShipNoticeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    date = QueryDate(required=True)
    carrier = text(100, required=True)
    tracking = text(255, required=True)
    item = text(64, load_default=None)
    comments = fields.String(load_default="")
    fill_order = QueryBool(data_key="fillOrder", load_default=False)
