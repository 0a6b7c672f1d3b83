"""/admin/keys: the owner's keys, each kind over its own service: API keys (the JSON API),
clerk keys (the REST API, with roles and sites; ``affsrv clerk-key``) and reporting keys
(``/reports/v1``; ``affsrv report key``). Create (the key is shown once, in that answer only:
never in the session, a redirect or a log), revoke."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm, ClerkKeyForm, KeyForm
from affsrv.admin.views import bp, owner_only, refuse
from affsrv.apikeys import services as apikeys
from affsrv.clerkkeys import services as clerkkeys
from affsrv.errors import DomainError
from affsrv.reports import keys as reportkeys

# The kinds of key, in the tabs' order: (endpoint, label).
KINDS = [("admin.keys", "API keys"), ("admin.clerk_keys", "Clerk keys (REST API)"),
         ("admin.report_keys", "Reporting keys")]


def _keys_page(template: str, form: Any, create: Callable[[], str],
               listed: Callable[[], list[Any]], **context: Any) -> Any:
    owner_only("keys")
    new_key = None
    status = 200
    if form.validate_on_submit():
        try:
            new_key = create()
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 400
    return render_template(template, keys=listed(), form=form, new_key=new_key,
                           action=ActionForm(), kinds=KINDS, **context), status


def _revoke(revoke: Callable[[int], Any], key_id: int, what: str, back: str) -> Response:
    owner_only("keys")
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    try:
        revoke(key_id)
    except DomainError as exc:
        refuse(exc)
    flash(f"{what} {key_id} revoked.", "info")
    return redirect(url_for(back), code=303)


@bp.route("/keys", methods=["GET", "POST"], endpoint="keys")
def keys_page() -> Any:
    form = KeyForm()
    return _keys_page("admin/keys.html", form,
                      lambda: apikeys.create_api_key(form.label.data or "")[1],
                      apikeys.list_api_keys, title="API keys",
                      used_by="the JSON API", path="/api", shown_prefix="",
                      revoke_endpoint="admin.revoke_key")


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int) -> Response:
    return _revoke(apikeys.revoke_api_key, key_id, "API key", "admin.keys")


def _sites(text: str) -> list[str]:
    return [site for site in re.split(r"[\s,]+", text) if site]


@bp.route("/keys/clerk", methods=["GET", "POST"], endpoint="clerk_keys")
def clerk_keys_page() -> Any:
    form = ClerkKeyForm()
    return _keys_page("admin/clerk_keys.html", form,
                      lambda: clerkkeys.create_clerk_key(
                          form.roles.data or [], form.label.data or "",
                          sites=_sites(form.sites.data or ""))[1],
                      clerkkeys.list_clerk_keys)


@bp.post("/keys/clerk/<int:key_id>/revoke")
def revoke_clerk_key(key_id: int) -> Response:
    return _revoke(clerkkeys.revoke_clerk_key, key_id, "Clerk key", "admin.clerk_keys")


@bp.route("/keys/reporting", methods=["GET", "POST"], endpoint="report_keys")
def report_keys_page() -> Any:
    form = KeyForm()
    return _keys_page("admin/keys.html", form,
                      lambda: reportkeys.create_report_key(form.label.data or "")[1],
                      reportkeys.list_report_keys, title="Reporting keys",
                      used_by="the reports API", path="/reports/v1",
                      shown_prefix="affsrv_report_", revoke_endpoint="admin.revoke_report_key")


@bp.post("/keys/reporting/<int:key_id>/revoke")
def revoke_report_key(key_id: int) -> Response:
    return _revoke(reportkeys.revoke_report_key, key_id, "Reporting key", "admin.report_keys")
