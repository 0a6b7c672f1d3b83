"""The dashboard's blueprint: every /admin page needs a signed-in merchant user. The pages
live in the modules imported at the end, one per area."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort

from affsrv.errors import DomainError
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
    ("admin.keys", "API keys"),
]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["admin_pages"] = PAGES


def refuse(exc: DomainError) -> None:
    """Answer a service's refusal of what a form or URL asked with its status (4xx)."""
    abort(exc.status, exc.message)


def _register_pages() -> Any:
    from affsrv.admin import (  # noqa: F401 - each adds its routes to bp
        affiliates,
        commissions,
        keys,
        overview,
        payouts,
        products,
        reports,
    )


_register_pages()
