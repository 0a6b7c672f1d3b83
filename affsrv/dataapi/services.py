"""What each JSON API call does, in terms of the domain services."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from affsrv.affiliates.directory import find_affiliate
from affsrv.affiliates.services import (
    affiliate_info,
    get_active_affiliate,
    get_affiliate,
    get_affiliate_record,
)
from affsrv.commissions.services import commission_totals, record_commission, reverse_commission
from affsrv.dataapi.schemas import (
    CommissionTotalsSchema,
    PaymentTotalsSchema,
    ReferralStatsSchema,
)
from affsrv.db.reads import run_read
from affsrv.errors import Forbidden, NotFound
from affsrv.payments.services import payment_totals
from affsrv.products.directory import find_product
from affsrv.products.services import get_enabled_product, get_product
from affsrv.settings import settings
from affsrv.tracking.services import record_referral, referral_stats

_commission_totals = CommissionTotalsSchema()
_payment_totals = PaymentTotalsSchema()
_referral_stats = ReferralStatsSchema()


def dispatch(kind: str, call: dict[str, Any], user_agent: str = "") -> dict[str, Any]:
    """Run one validated call of ``kind`` (data, referrer or commission); the keys to add to
    ``{"status": "ok"}``."""
    if kind == "data":
        return data_op(call["affiliate"], call["data"])
    if kind == "referrer":
        return referral_call(call["affiliate"], call["referrer"], user_agent)
    return commission_call(call["affiliate"], call["commission"], call["emails"], call["custom"])


def data_op(code: str, data: dict[str, Any]) -> dict[str, Any]:
    """The answer's ``{"data": ...}`` for one Data API op of affiliate ``code``."""
    op, product_id = data["op"], data["product"]
    if op == "info":
        # The whole record, read fresh: one query, which also says whether it is enabled.
        affiliate = run_read(lambda conn: get_affiliate_record(code, conn))
        _refuse_disabled(code, affiliate.enabled)
        return affiliate_info(affiliate)
    # The totals need only the affiliate's id and state: from the worker's directory.
    found = find_affiliate(code)
    if found is None:
        raise NotFound(f"unknown affiliate code {code!r}")
    _refuse_disabled(code, found.enabled)
    # An unknown product is an error, not an empty answer.
    if product_id is not None and find_product(product_id) is None:
        raise NotFound(f"unknown product {product_id!r}")
    # The ops only read: plain rows on a read connection, no ORM objects or session.
    return run_read(lambda conn: _totals(conn, op, found.id, product_id))


def _refuse_disabled(code: str, enabled: bool) -> None:
    if not enabled:
        raise Forbidden(f"affiliate {code!r} is disabled")


def _totals(
    conn: Connection, op: str, affiliate_id: int, product_id: int | None
) -> dict[str, Any]:
    if op == "commissions":
        return _commission_totals.dump(commission_totals(affiliate_id, product_id, conn))
    if op == "payments":
        return _payment_totals.dump(payment_totals(affiliate_id, conn))
    return _referral_stats.dump(referral_stats(affiliate_id, product_id, conn))


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
    if sent["type"] != "sale":
        # A refund or chargeback takes back what a sale earned, whatever the affiliate's state
        # now: an affiliate disabled, closed or unapproved since must not keep the commission
        # of a sale the customer got back (ClickBank intake reverses in those cases too).
        affiliate = get_affiliate(code)
        product = get_product(sent["product"])
        commission = reverse_commission(
            affiliate, product, sent["ref"], sent["type"], notes=sent["notes"] or ""
        )
        return {"id": str(commission.id), "commission_status": commission.status}
    affiliate = get_active_affiliate(code, must_be_approved=_approval_required())
    product = get_product(sent["product"])
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
