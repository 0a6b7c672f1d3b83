"""The dashboard's blueprint: every /admin page needs a signed-in merchant user. The pages
live in the modules imported at the end, one per area."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Flask, abort, request

from affsrv.errors import DomainError
from affsrv.users.views import merchant_required
from affsrv.web.views import protect, viewer_zone

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(merchant_required())  # first: a stranger is sent to sign in, nothing more
protect(bp)

# The navigation, in order: (endpoint, label). A page is listed once its module is imported.
PAGES: list[tuple[str, str]] = [
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


def day_start(text: str | None, field: str) -> datetime | None:
    """The start (UTC) of the day ``text`` (YYYY-MM-DD) in the viewer's zone."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(400, f"{field}: a date as YYYY-MM-DD, please")
    return datetime.combine(day, time(), viewer_zone())


def day_end(text: str | None, field: str) -> datetime | None:
    """The end (exclusive, UTC) of the day ``text`` in the viewer's zone."""
    start = day_start(text, field)
    return None if start is None else datetime.combine(
        start.date() + timedelta(days=1), time(), viewer_zone())


def int_arg(name: str) -> int | None:
    value = request.values.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 2**31:
        abort(400, f"{name}: a positive whole number, please")
    return int(value)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _register_pages() -> Any:
    from affsrv.admin import (  # noqa: F401 - each adds its routes to bp
        affiliates,
        commissions,
        keys,
        payouts,
        products,
    )


_register_pages()
