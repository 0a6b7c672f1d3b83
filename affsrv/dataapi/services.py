"""What each JSON API call does, in terms of the domain services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from affsrv.affiliates.services import (
    affiliate_info,
    get_active_affiliate,
    get_affiliate_record,
)
from affsrv.commissions.services import commission_totals, record_commission, reverse_commission
from affsrv.dataapi.schemas import (
    CommissionTotalsSchema,
    PaymentTotalsSchema,
    ReferralStatsSchema,
)
from affsrv.db.reads import run_read
from affsrv.errors import Forbidden
from affsrv.payments.services import payment_totals
from affsrv.products.services import check_product_exists, get_enabled_product, get_product
from affsrv.settings import settings
from affsrv.tracking.services import record_referral, referral_stats

_commission_totals = CommissionTotalsSchema()
_payment_totals = PaymentTotalsSchema()
_referral_stats = ReferralStatsSchema()


def dispatch(call: dict[str, Any], user_agent: str = "") -> dict[str, Any]:
    """Run one validated call; the keys to add to ``{"status": "ok"}``."""
    if call["data"] is not None:
        return {"data": data_op(call["affiliate"], call["data"])}
    if call["referrer"] is not None:
        return referral_call(call["affiliate"], call["referrer"], user_agent)
    return commission_call(call["affiliate"], call["commission"], call["emails"], call["custom"])


def data_op(code: str, data: dict[str, Any]) -> dict[str, Any]:
    # The ops only read: plain rows on a read connection, no ORM objects or session.
    return run_read(lambda conn: _data_op(conn, code, data))


def _data_op(conn: Connection, code: str, data: dict[str, Any]) -> dict[str, Any]:
    affiliate = get_affiliate_record(code, conn)
    if not affiliate.enabled:
        raise Forbidden(f"affiliate {code!r} is disabled")
    op, product_id = data["op"], data["product"]
    if product_id is not None:
        # An unknown product is an error, not an empty answer.
        check_product_exists(product_id, conn)
    if op == "info":
        return affiliate_info(affiliate)
    if op == "commissions":
        totals = commission_totals(affiliate.id, product_id, conn)
        return {pid: _commission_totals.dump(t) for pid, t in totals.items()}
    if op == "payments":
        totals = payment_totals(affiliate.id, conn)
        return {method: _payment_totals.dump(t) for method, t in totals.items()}
    stats = referral_stats(affiliate.id, product_id, conn)
    return {pid: _referral_stats.dump(s) for pid, s in stats.items()}


def referral_call(code: str, referrer: dict[str, Any], user_agent: str) -> dict[str, Any]:
    affiliate = get_active_affiliate(code, must_be_approved=_approval_required())
    product = get_enabled_product(referrer["product"]) if referrer["product"] else None
    click = record_referral(
        affiliate, product, referrer["url"] or "", referrer["ip"] or "", user_agent
    )
    return {"id": str(click.id)}


def commission_call(
    code: str, sent: dict[str, Any], emails: dict[str, bool], custom: dict[str, Any]
) -> dict[str, Any]:
    affiliate = get_active_affiliate(code, must_be_approved=_approval_required())
    product = get_product(sent["product"])
    if sent["type"] != "sale":
        commission = reverse_commission(
            affiliate, product, sent["ref"], sent["type"], notes=sent["notes"] or ""
        )
        return {"id": str(commission.id), "commission_status": commission.status}
    recorded = record_commission(
        affiliate,
        product,
        sent["saletotal"],
        sent["commtotal"],
        currency=sent["currency"],
        order_ref=sent["ref"],
        ip=sent["ip"] or "",
        notes=sent["notes"] or "",
        emails=emails,
        custom=custom,
    )
    commission = recorded.commission
    return {
        "id": str(commission.id),
        "commtotal": f"{commission.commission_total:.2f}",
        "commission_status": commission.status,
        "duplicate": "no" if recorded.created else "yes",
    }


def _approval_required() -> bool:
    return settings("affiliates")["require_approval"]
