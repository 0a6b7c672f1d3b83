"""Computing the Data API's `payments` totals from the payments (``affsrv totals
recount|check``); ``payments.triggers`` keeps them as the payments change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, type_coerce

from affsrv.db.types import Money
from affsrv.payments.models import Payment

_P = Payment.__table__.c


def totals_from_payments() -> Select[Any]:
    """``PaymentTotal``'s rows computed from the payments."""
    return (
        select(
            _P.affiliate_id, _P.currency, _P.method,
            func.count().label("payments"),
            type_coerce(func.sum(_P.amount), Money()).label("total"),
            func.max(_P.created_at).label("last_at"),
        )
        .group_by(_P.affiliate_id, _P.currency, _P.method)
    )
