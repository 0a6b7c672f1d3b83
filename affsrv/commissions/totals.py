"""Computing the Data API's `commissions` totals from the commissions (``affsrv totals
recount|check``); ``commissions.triggers`` keeps them as the commissions change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select, type_coerce

from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.db.types import Money

_C = Commission.__table__.c


def totals_from_commissions() -> Select[Any]:
    """``CommissionTotal``'s rows computed from the commissions (recount and check)."""
    return (
        select(
            _C.affiliate_id, _C.currency, _C.product_id,
            func.sum(case((_C.kind == CommissionKind.REVERSAL.value, -1), else_=1))
            .label("commissions"),
            type_coerce(func.sum(_C.sale_total), Money()).label("sale_total"),
            type_coerce(func.sum(_C.commission_total), Money()).label("commission_total"),
            func.count().label("approved_rows"),
            func.max(_C.created_at).label("last_at"),
        )
        .where(_C.status == CommissionStatus.APPROVED.value)
        .group_by(_C.affiliate_id, _C.currency, _C.product_id)
    )
