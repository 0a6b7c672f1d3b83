"""/admin/accounts: the ClickBank accounts (the owner's only), over the same service functions
as ``affsrv account add|set|remove``. The secret key is write-only: typed when adding, never
shown back (the page lists no key, the form never refills it)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import AccountForm, AccountSettingsForm, ActionForm
from affsrv.admin.views import bp, owner_only, refuse
from affsrv.clickbank import services as clickbank
from affsrv.errors import DomainError


@bp.route("/accounts", methods=["GET", "POST"], endpoint="accounts")
def accounts_page() -> Any:
    owner_only("ClickBank accounts")
    form = AccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            account = clickbank.add_account(form.nickname.data or "", form.secret_key.data or "",
                                            legacy_cverify=form.legacy_cverify.data)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash(f"Account {account.nickname} added; give ClickBank the Instant Notification "
                  f"URL path /ins/clickbank/{account.nickname}.", "info")
            return redirect(url_for("admin.accounts"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("admin/accounts.html", accounts=clickbank.list_accounts(),
                           form=form, action=ActionForm()), status


def _account(nickname: str) -> Any:
    account = clickbank.find_account(nickname)
    if account is None:
        abort(404, f"unknown account {nickname!r}")
    return account


@bp.route("/accounts/<nickname>", methods=["GET", "POST"])
def account_settings(nickname: str) -> Any:
    owner_only("ClickBank accounts")
    account = _account(nickname)
    form = AccountSettingsForm(
        legacy_cverify=account.legacy_cverify,
        unknown_skus="refuse" if account.refuse_unknown_skus else "create")
    status = 200
    if form.validate_on_submit():
        try:
            clickbank.set_legacy_cverify(account.nickname, form.legacy_cverify.data)
            clickbank.set_refuse_unknown_skus(account.nickname, form.unknown_skus.data == "refuse")
        except DomainError as exc:
            refuse(exc)
        flash(f"Account {account.nickname} saved.", "info")
        return redirect(url_for("admin.accounts"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("admin/account.html", account=account, form=form,
                           action=ActionForm()), status


@bp.post("/accounts/<nickname>/remove")
def remove_account(nickname: str) -> Response:
    owner_only("ClickBank accounts")
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    try:
        clickbank.remove_account(nickname)
    except DomainError as exc:
        refuse(exc)
    flash(f"Account {nickname.strip().lower()} removed: its notifications are refused from "
          "now on.", "info")
    return redirect(url_for("admin.accounts"), code=303)
