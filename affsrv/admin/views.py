"""The dashboard's blueprint: every /admin page needs a signed-in merchant user. The pages
live in the modules imported at the end, one per area."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort
from flask_login import current_user

from affsrv.errors import DomainError
from affsrv.users.models import Role
from affsrv.users.views import merchant_required
from affsrv.web.views import protect

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(merchant_required())  # first: a stranger is sent to sign in, nothing more
protect(bp)

# The navigation, in order: (endpoint, label). A page is listed once its module is imported.
PAGES: list[tuple[str, str]] = [
    ("admin.overview", "Overview"),
    ("admin.reports", "Reports"),
    ("admin.affiliates", "Affiliates"),
    ("admin.commissions", "Commissions"),
    ("admin.payouts", "Payouts"),
    ("admin.products", "Products"),
    ("admin.accounts", "ClickBank accounts"),
    ("admin.notifications", "Notifications"),
    ("admin.keys", "Keys"),
    ("admin.settings", "Configuration"),
]
# What only an owner may open: the pages that hold or make secrets (keys, ClickBank secret
# keys) and the configuration. Staff run the day-to-day pages, and may read the notification
# subscriptions and their delivery log and send a failed notification again.
OWNER_PAGES = frozenset({"admin.keys", "admin.accounts", "admin.settings"})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["admin_pages"] = PAGES
    app.jinja_env.globals["owner_pages"] = OWNER_PAGES


def owner_only(what: str) -> None:
    """Refuse (403) a merchant user who is not an owner."""
    if current_user.role != Role.OWNER:
        abort(403, f"only an owner manages {what}")


def refuse(exc: DomainError) -> None:
    """Answer a service's refusal of what a form or URL asked with its status (4xx)."""
    abort(exc.status, exc.message)


def _register_pages() -> Any:
    from affsrv.admin import (  # noqa: F401 - each adds its routes to bp
        accounts,
        affiliates,
        commissions,
        keys,
        notifications,
        overview,
        payouts,
        products,
        reports,
        settings,
    )


_register_pages()
