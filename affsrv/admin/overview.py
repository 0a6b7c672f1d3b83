"""/admin, the overview: today live (a fragment htmx fetches again every few seconds), the
last 30 days as a chart, the top countries and affiliates of those days, and their
weekday-by-hour heat map; every figure from ``affsrv.reports.services``, in the viewer's zone
(or ``?tz=``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template
from sqlalchemy import Connection

from affsrv.admin import charts
from affsrv.admin.reports import request_zone, zone_names
from affsrv.admin.views import bp
from affsrv.commissions.services import ledger_currency
from affsrv.db.reads import run_read
from affsrv.errors import DomainError
from affsrv.reports import services

DAYS = 30
TOP = 10
#: How often the live block asks for today's figures again (seconds): a read of at most
#: 1,440 minute rows per account and currency.
LIVE_SECONDS = 10


def _zone() -> ZoneInfo:
    try:
        return request_zone()
    except DomainError as exc:
        abort(exc.status, exc.message)


def _today(zone: ZoneInfo) -> tuple[services.TodayReport, list[services.SalesRow]]:
    """Today's report, and its totals per currency (the ledger currency's at zero when
    nothing happened yet, so the block always shows it)."""
    report = run_read(lambda conn: services.today_report(conn, zone))
    zero = Decimal("0.00")
    totals = report.total or [
        services.SalesRow("all", ledger_currency(), 0, zero, 0, zero, 0, zero, zero)]
    return report, totals


def _today_block(zone: ZoneInfo) -> dict[str, Any]:
    report, totals = _today(zone)
    return {"live": report, "totals": totals, "live_seconds": LIVE_SECONDS,
            "zone": zone.key, "updated": datetime.now(zone).strftime("%H:%M:%S")}


@bp.get("", endpoint="overview")  # /admin too, without a redirect
@bp.get("/", endpoint="overview")
def overview() -> str:
    zone = _zone()
    last = services.today_in(zone)
    first = last - timedelta(days=DAYS - 1)
    period = services.make_period(first, last, zone, DAYS)

    def read(conn: Connection) -> dict[str, list[services.SalesRow]]:
        return {by: services.sales_report(conn, by, period)
                for by in ("day", "country", "affiliate", "weekday-hour")}

    found = run_read(read)
    ledger = ledger_currency()
    return render_template(
        "admin/overview.html", first=first, last=last, zones=zone_names(),
        days_chart=charts.time_series(found["day"], charts.days_between(first, last), ledger),
        heat_chart=charts.weekday_hours(found["weekday-hour"]),
        countries=found["country"][:TOP], affiliates=found["affiliate"][:TOP],
        **_today_block(zone),
    )


@bp.get("/overview/today", endpoint="overview_today")
def overview_today() -> str:
    """The live block alone: what htmx swaps in for the one on the page."""
    return render_template("admin/overview_today.html", **_today_block(_zone()))
