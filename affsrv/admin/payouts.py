"""/admin/payouts: who is owed how much (approved, unpaid, in the ledger currency, at least a
minimum the merchant sets), recording a payout batch, the batch as a PayPal Payouts file; and
/admin/payments, the payments made, with CSV."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import PayoutForm
from affsrv.admin.views import bp, refuse
from affsrv.affiliates.services import get_affiliate, list_affiliates
from affsrv.commissions.services import ledger_currency
from affsrv.db.types import to_money
from affsrv.errors import DomainError
from affsrv.payments import services as payments
from affsrv.web.csvout import csv_response
from affsrv.web.views import local_time

DEFAULT_MINIMUM = Decimal("50.00")
_EMAIL_IN_PAYINFO = "@"

def _minimum() -> Decimal:
    raw = request.values.get("minimum", "").strip()
    if not raw:
        return DEFAULT_MINIMUM
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not 0 <= value < 10**12:
        abort(400, "minimum: an amount such as 50.00, please")
    return to_money(value)

def payout_address(affiliate: Any) -> str:
    """Where a payout goes: a PayPal e-mail in the payment info when there is one (the whole
    payment info, on one line, is one), else the affiliate's e-mail."""
    info = (affiliate.payinfo or "").strip()
    if _EMAIL_IN_PAYINFO in info and len(info.split()) == 1:
        return info
    return affiliate.email

@bp.get("/payouts", endpoint="payouts")
def payouts_page() -> str:
    minimum = _minimum()
    owed = payments.owed_at_least(minimum)
    return render_template(
        "admin/payouts.html", owed=owed, minimum=minimum, currency=ledger_currency(),
        total=sum((b.owed for _a, b in owed), Decimal("0.00")), form=PayoutForm(),
        address=payout_address,
    )

@bp.get("/payouts/paypal.csv")
def payouts_paypal_csv() -> Response:
    """What is owed now, as a PayPal Payouts file: no header; recipient, amount, currency,
    customer id (the affiliate's code), note, wallet."""
    currency = ledger_currency()
    owed = payments.owed_at_least(_minimum())
    return csv_response(
        "paypal-payouts.csv", None,
        ([payout_address(a), f"{b.owed:.2f}", currency, a.code[:30],
          "Affiliate commissions", "PAYPAL"] for a, b in owed),
    )

@bp.post("/payouts")
def record_payouts() -> Response:
    """Pay each ticked affiliate what they are owed now (read again, not taken from the
    form: a commission approved meanwhile is paid too, a payment made meanwhile not twice)."""
    form = PayoutForm()
    if not form.validate_on_submit():
        abort(400, "the form is incomplete: " + "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    codes = request.form.getlist("affiliate")
    if not codes:
        flash("Tick at least one affiliate to pay.", "error")
        return redirect(url_for("admin.payouts", minimum=request.form.get("minimum")), code=303)
    try:
        chosen = [get_affiliate(code) for code in codes]
    except DomainError as exc:
        refuse(exc)
    owed = payments.balances([a.id for a in chosen])
    amounts = {a.id: owed[a.id].owed for a in chosen if owed[a.id].owed > 0}
    if len(amounts) != len(chosen):
        abort(409, "an affiliate ticked is owed nothing now; reload the page")
    try:
        made = payments.record_payout_batch(amounts, form.method.data, form.reference.data or "")
    except DomainError as exc:
        refuse(exc)
    total = sum((p.amount for p in made), Decimal("0.00"))
    flash(f"Recorded {len(made)} payment(s), {total:,.2f} {ledger_currency()} in all.", "info")
    return redirect(url_for("admin.payments"), code=303)

def _payments_filter() -> tuple[int | None, str]:
    code = request.args.get("affiliate", "").strip()
    if not code:
        return None, ""
    try:
        return get_affiliate(code).id, code
    except DomainError as exc:
        refuse(exc)

@bp.get("/payments", endpoint="payments")
def payments_page() -> str:
    affiliate_id, code = _payments_filter()
    return render_template(
        "admin/payments.html", payments=payments.list_payments(affiliate_id),
        affiliates={a.id: a for a in list_affiliates()}, code=code,
    )

@bp.get("/payments.csv")
def payments_csv() -> Response:
    affiliate_id, _code = _payments_filter()
    affiliates = {a.id: a for a in list_affiliates()}
    return csv_response(
        "payments.csv",
        ["id", "created", "affiliate", "method", "amount", "currency", "reference"],
        ([p.id, local_time(p.created_at, "%Y-%m-%d %H:%M:%S %z"),
          affiliates[p.affiliate_id].code, p.method, p.amount, p.currency, p.reference]
         for p in payments.list_payments(affiliate_id, limit=None)),
    )
