"""/admin/commissions: filter by status, affiliate, product and date; approve or reject one
(htmx, or a plain form) or many; CSV download of the filtered list."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm
from affsrv.admin.views import bp, refuse
from affsrv.affiliates.services import get_affiliate, list_affiliates
from affsrv.commissions import services as commissions
from affsrv.commissions.models import Commission, CommissionStatus
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.products.services import list_products
from affsrv.web.csvout import csv_response
from affsrv.web.params import day_end, day_start, int_arg, is_htmx
from affsrv.web.views import local_time

DECISIONS = {"approve": CommissionStatus.APPROVED, "reject": CommissionStatus.REJECTED}
PAGE_ROWS = 500


def _filters() -> dict[str, Any]:
    """The filters in the query string, checked; and as the services take them."""
    status = request.args.get("status", "")
    if status and status not in {s.value for s in CommissionStatus}:
        abort(400, f"status: one of {', '.join(s.value for s in CommissionStatus)}")
    code = request.args.get("affiliate", "").strip()
    affiliate_id = None
    if code:
        try:
            affiliate_id = get_affiliate(code).id
        except DomainError as exc:
            refuse(exc)
    since = day_start(request.args.get("from"), "from")
    until = day_end(request.args.get("to"), "to")
    return {"status": status or None, "affiliate_id": affiliate_id,
            "product_id": int_arg("product"), "since": since, "until": until}


def _names() -> tuple[dict[int, Any], dict[int, Any]]:
    return ({a.id: a for a in list_affiliates()}, {p.id: p for p in list_products()})


@bp.get("/commissions", endpoint="commissions")
def commissions_page() -> str:
    found = commissions.find_commissions(**_filters(), limit=PAGE_ROWS)
    affiliates, products = _names()
    return render_template(
        "admin/commissions.html", commissions=found, affiliates=affiliates, products=products,
        args=request.args, statuses=[s.value for s in CommissionStatus], action=ActionForm(),
        full=len(found) == PAGE_ROWS, page_rows=PAGE_ROWS,
    )


@bp.get("/commissions.csv")
def commissions_csv() -> Response:
    found = commissions.find_commissions(**_filters(), limit=None)
    affiliates, products = _names()
    return csv_response(
        "commissions.csv",
        ["id", "created", "affiliate", "product_id", "product", "kind", "status", "sale_total",
         "commission_total", "currency", "order_ref", "paid_by_payment"],
        ([c.id, local_time(c.created_at, "%Y-%m-%d %H:%M:%S %z"),
          affiliates[c.affiliate_id].code, c.product_id, products[c.product_id].name, c.kind,
          c.status, c.sale_total, c.commission_total, c.currency, c.order_ref or "",
          c.payment_id or ""] for c in found),
    )


def _decide(ids: list[int], action: str) -> int:
    if action not in DECISIONS:
        abort(400, "action: approve or reject")
    if not ids:
        abort(400, "choose at least one commission")
    try:
        return commissions.set_status(ids, DECISIONS[action])
    except DomainError as exc:
        refuse(exc)


@bp.post("/commissions/decide")
def decide_commissions() -> Response:
    """Approve or reject the ticked commissions (all or none)."""
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    raw = request.form.getlist("id")
    if not all(v.isdigit() and 0 < int(v) < 2**63 for v in raw):
        abort(400, "id: commission ids are positive whole numbers")
    changed = _decide(sorted({int(v) for v in raw}), request.form.get("action", ""))
    flash(f"{changed} commission(s) {request.form['action']}d.", "info")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/admin/commissions") else
                    url_for("admin.commissions"), code=303)


@bp.post("/commissions/<int:commission_id>/<action>")
def decide_commission(commission_id: int, action: str) -> Any:
    """One commission's button: with htmx the answer is the row as it now is."""
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    _decide([commission_id], action)
    if is_htmx():
        affiliates, products = _names()
        return render_template("admin/commission_row.html",
                               c=db.session.get(Commission, commission_id),
                               affiliates=affiliates, products=products, action=ActionForm())
    flash(f"Commission {commission_id} {action}d.", "info")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url)
                    else url_for("admin.commissions"), code=303)
