"""Reading a page's query and form values: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, request

from affsrv.web.views import viewer_zone


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
