"""The kept totals of the Data API compared with sums made here, in Python, from every row
(not with affsrv's own recount query): what the seeded walks check after each step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from affsrv.commissions.models import Commission, CommissionTotal
from affsrv.extensions import db
from affsrv.payments.models import Payment, PaymentTotal


def commission_sums(app: Flask) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    sums: dict[tuple[Any, ...], list[Any]] = {}
    with app.app_context():
        for c in db.session.scalars(select(Commission).where(Commission.status == "approved")):
            s = sums.setdefault((c.affiliate_id, c.currency, c.product_id),
                                [0, Decimal(0), Decimal(0), 0, c.created_at])
            s[0] += -1 if c.kind == "reversal" else 1
            s[1] += c.sale_total
            s[2] += c.commission_total
            s[3] += 1
            s[4] = max(s[4], c.created_at)
    return {key: tuple(s) for key, s in sums.items()}


def kept_commission_totals(app: Flask) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The kept rows, an empty one (every approved commission taken out) left out."""
    with app.app_context():
        return {(t.affiliate_id, t.currency, t.product_id):
                (t.commissions, t.sale_total, t.commission_total, t.approved_rows, t.last_at)
                for t in db.session.scalars(select(CommissionTotal))
                if (t.commissions, t.sale_total, t.commission_total, t.approved_rows,
                    t.last_at) != (0, 0, 0, 0, None)}


def payment_sums(app: Flask) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    sums: dict[tuple[Any, ...], list[Any]] = {}
    with app.app_context():
        for p in db.session.scalars(select(Payment)):
            s = sums.setdefault((p.affiliate_id, p.currency, p.method),
                                [0, Decimal(0), p.created_at])
            s[0] += 1
            s[1] += p.amount
            s[2] = max(s[2], p.created_at)
    return {key: tuple(s) for key, s in sums.items()}


def kept_payment_totals(app: Flask) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    with app.app_context():
        return {(t.affiliate_id, t.currency, t.method): (t.payments, t.total, t.last_at)
                for t in db.session.scalars(select(PaymentTotal))
                if (t.payments, t.total, t.last_at) != (0, 0, None)}


def assert_kept_totals_match_rows(app: Flask) -> None:
    assert kept_commission_totals(app) == commission_sums(app)
    assert kept_payment_totals(app) == payment_sums(app)
