"""/admin/affiliates: search, approve, disable, edit; what each has earned and is owed."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm, AffiliateForm
from affsrv.admin.views import bp, refuse
from affsrv.affiliates import services as affiliates
from affsrv.commissions.services import find_commissions, ledger_currency
from affsrv.errors import DomainError
from affsrv.payments.services import balances, list_payments
from affsrv.products.services import list_products


@bp.get("/affiliates", endpoint="affiliates")
def affiliates_page() -> str:
    text = request.args.get("q", "")[:200]
    state = request.args.get("state", "")
    if state and state not in affiliates.AFFILIATE_STATES:
        abort(400, "state: pending, active or disabled")
    found = affiliates.search_affiliates(text, state)
    return render_template(
        "admin/affiliates.html", affiliates=found, q=text, state=state,
        states=affiliates.AFFILIATE_STATES, balances=balances([a.id for a in found]),
        currency=ledger_currency(), action=ActionForm(),
    )


def _affiliate(code: str) -> Any:
    try:
        return affiliates.get_affiliate(code)
    except DomainError as exc:
        refuse(exc)


@bp.route("/affiliates/<code>", methods=["GET", "POST"])
def affiliate(code: str) -> Any:
    found = _affiliate(code)
    form = AffiliateForm(obj=found)
    status = 200
    if form.validate_on_submit():
        try:
            affiliates.update_affiliate(
                found.code, fname=form.fname.data.strip(), lname=form.lname.data.strip(),
                email=form.email.data.strip(), commtier=form.commtier.data,
                payinfo=form.payinfo.data, notes=form.notes.data,
                clickbank_nickname=form.clickbank_nickname.data,
            )
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash(f"Affiliate {found.code} saved.", "info")
            return redirect(url_for("admin.affiliate", code=found.code), code=303)
    elif form.is_submitted():
        status = 400
    products = {p.id: p for p in list_products()}
    return render_template(
        "admin/affiliate.html", affiliate=found, form=form, action=ActionForm(),
        balance=balances([found.id])[found.id], currency=ledger_currency(),
        commissions=find_commissions(affiliate_id=found.id, limit=20), products=products,
        payments=list_payments(found.id, limit=20),
    ), status


def _change(code: str, change: Any, done: str) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    found = _affiliate(code)
    try:
        change(found.code)
    except DomainError as exc:
        refuse(exc)
    flash(f"Affiliate {found.code} {done}.", "info")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin/") else
                    url_for("admin.affiliate", code=found.code), code=303)


@bp.post("/affiliates/<code>/approve")
def approve_affiliate(code: str) -> Response:
    return _change(code, lambda c: affiliates.set_approved(c, True), "approved")


@bp.post("/affiliates/<code>/disable")
def disable_affiliate(code: str) -> Response:
    return _change(code, lambda c: affiliates.set_enabled(c, False), "disabled")


@bp.post("/affiliates/<code>/enable")
def enable_affiliate(code: str) -> Response:
    return _change(code, lambda c: affiliates.set_enabled(c, True), "enabled")
