"""/admin/keys: API keys (the owner's only): create (the key is shown once), revoke."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm, KeyForm
from affsrv.admin.views import bp, refuse
from affsrv.apikeys import services as apikeys
from affsrv.errors import DomainError
from affsrv.users.models import Role


def _owner_only() -> None:
    if current_user.role != Role.OWNER:
        abort(403, "only an owner manages API keys")


@bp.route("/keys", methods=["GET", "POST"], endpoint="keys")
def keys_page() -> Any:
    _owner_only()
    form = KeyForm()
    new_key = None
    status = 200
    if form.validate_on_submit():
        try:
            _record, new_key = apikeys.create_api_key(form.label.data or "")
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
    elif form.is_submitted():
        status = 400
    # The new key is in this answer only (never in the session or a redirect): shown once.
    return render_template("admin/keys.html", keys=apikeys.list_api_keys(), form=form,
                           new_key=new_key, action=ActionForm()), status


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int) -> Response:
    _owner_only()
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    try:
        apikeys.revoke_api_key(key_id)
    except DomainError as exc:
        refuse(exc)
    flash(f"API key {key_id} revoked.", "info")
    return redirect(url_for("admin.keys"), code=303)
