"""Query parameters of ``/rest/1.3/shipping2``."""

from __future__ import annotations

from marshmallow import fields

from affsrv.restapi.schemas.common import QueryBool, QueryDate, QuerySchema, WindowSchema, text
from affsrv.restapi.schemas.products import one_of

STATUSES = ("shipped", "notshipped", "all")


class ShippingQuerySchema(WindowSchema):
    status = fields.String(load_default="all", validate=one_of(STATUSES))
    receipt = text(64, load_default=None)


class ShipNoticeSchema(QuerySchema):
    date = QueryDate(required=True)
    carrier = text(100, required=True)
    tracking = text(255, required=True)
    item = text(64, load_default=None)
    comments = fields.String(load_default="")
    fill_order = QueryBool(data_key="fillOrder", load_default=False)
