"""/admin/notifications: the instant-notification subscriptions (``affsrv notify add|list|
remove``), each one's delivery log, and sending a failed notification again (``affsrv notify
retry``). Adding and removing are the owner's; staff may read and resend."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from affsrv.admin.forms import ActionForm, SubscriptionForm
from affsrv.admin.views import bp, owner_only, refuse
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.notifications import services as notifications
from affsrv.notifications.destinations import safe_url
from affsrv.notifications.models import OutboxMessage, Subscription
from affsrv.web.params import int_arg, is_htmx

LOG_PAGE_SIZE = 50


@bp.route("/notifications", methods=["GET", "POST"], endpoint="notifications")
def notifications_page() -> Any:
    form = SubscriptionForm()
    new_key, status = None, 200
    if form.is_submitted():
        owner_only("notification subscriptions")
    if form.validate_on_submit():
        try:
            subscription, key = notifications.add_subscription(
                form.url.data.strip(), form.secret_key.data or None,
                (form.affiliate.data or "").strip() or None, form.product_id.data)
        except DomainError as exc:
            flash(exc.message, "error")
            status = exc.status
        else:
            flash(f"Subscription {subscription.id} added for {safe_url(subscription.url)}.",
                  "info")
            # A generated key is in this answer only (never in a redirect): shown once.
            new_key = None if form.secret_key.data else key
            form = SubscriptionForm(formdata=None)
    elif form.is_submitted():
        status = 400
    return render_template("admin/notifications.html", form=form, action=ActionForm(),
                           subscriptions=notifications.list_subscriptions(include_removed=True),
                           safe_url=safe_url, new_key=new_key), status


def _subscription(subscription_id: int) -> Subscription:
    found = db.session.get(Subscription, subscription_id)
    if found is None:
        abort(404, f"no subscription {subscription_id}")
    return found


@bp.get("/notifications/<int:subscription_id>")
def delivery_log(subscription_id: int) -> Any:
    subscription = _subscription(subscription_id)
    page = int_arg("page") or 1
    rows = notifications.outbox_log(limit=LOG_PAGE_SIZE + 1, subscription_id=subscription.id,
                                    offset=(page - 1) * LOG_PAGE_SIZE)
    return render_template("admin/delivery_log.html", subscription=subscription,
                           messages=rows[:LOG_PAGE_SIZE], page=page,
                           more=len(rows) > LOG_PAGE_SIZE, safe_url=safe_url,
                           action=ActionForm())


@bp.post("/notifications/<int:subscription_id>/remove")
def remove_subscription(subscription_id: int) -> Response:
    owner_only("notification subscriptions")
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    try:
        notifications.remove_subscription(subscription_id)
    except DomainError as exc:
        refuse(exc)
    flash(f"Subscription {subscription_id} removed; its delivery log stays.", "info")
    return redirect(url_for("admin.notifications"), code=303)


@bp.post("/notifications/<int:subscription_id>/messages/<int:message_id>/resend")
def resend(subscription_id: int, message_id: int) -> Any:
    """Queue a failed notification again (the worker sends it); with htmx the answer is its
    row as it now is."""
    if not ActionForm().validate_on_submit():
        abort(400, "the form is incomplete")
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.subscription_id != subscription_id:
        abort(404, f"no notification {message_id} to subscription {subscription_id}")
    if not notifications.retry_failed([message_id], subscription_id=subscription_id):
        abort(409, "only a failed notification can be sent again")
    db.session.refresh(message)
    if is_htmx():
        return render_template("admin/delivery_row.html", m=message, action=ActionForm(),
                               subscription_id=subscription_id)
    flash(f"Notification {message_id} queued again.", "info")
    return redirect(url_for("admin.delivery_log", subscription_id=subscription_id,
                            page=request.args.get("page")), code=303)
