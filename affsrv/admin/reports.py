"""/admin/reports: the reports of ``affsrv.reports`` (sales, affiliates and links, today) with
their filters and zone, as a table, a chart and a CSV download. The query is read by the
reports' own ``parse_query`` and the rows come from their services, as for the CLI and
``/reports/v1``: a bad filter is the same message, shown on the page with a 400."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from affsrv.admin import charts
from affsrv.admin.views import bp
from affsrv.commissions.services import ledger_currency
from affsrv.db.reads import run_read
from affsrv.errors import DomainError
from affsrv.reports import schemas, services
from affsrv.settings import settings
from affsrv.web.csvout import csv_response
from affsrv.web.views import viewer_zone

REPORTS = {"sales": "Sales", "affiliates": "Affiliates and links", "today": "Today"}
GROUPS = {"sales": services.SALES_GROUPS, "affiliates": services.AFFILIATE_GROUPS}
DEFAULT_GROUP = {"sales": "day", "affiliates": "affiliate"}
# The filters each report takes (the affiliates report has no account: clicks have none).
FILTERS = {"sales": ("account", "product", "affiliate", "country"),
           "affiliates": ("product", "affiliate", "country"),
           "today": ("account",)}
PARAMS = ("by", "from", "to", "tz", "account", "product", "affiliate", "country")
#: The most rows a page shows; the CSV has them all (``--by postal`` may have thousands).
PAGE_ROWS = 1000

# (attribute, heading, how it is shown) of the table's columns; the CSV's are the reports'.
SALES_TABLE = [("orders", "Orders", "count"), ("gross", "Gross", "money"),
               ("refunds", "Refunds", "count"), ("refund_amount", "Refunded", "money"),
               ("chargebacks", "Chargebacks", "count"),
               ("chargeback_amount", "Charged back", "money"), ("net", "Net", "money"),
               ("commissions", "Commissions", "money"), ("refund_rate", "Refund rate", "rate")]
AFFILIATES_TABLE = [("clicks", "Clicks", "count"), ("sales", "Sales", "count"),
                    ("conversion_rate", "Conversion", "rate"),
                    ("commissions", "Commissions", "money"),
                    ("earnings_per_click", "Per click", "rate")]


@cache
def zone_names() -> list[str]:
    return sorted(available_timezones())


def request_zone() -> ZoneInfo:
    """The zone of ``?tz=`` (a ``DomainError`` for an unknown one), else the viewer's."""
    name = request.args.get("tz", "").strip()
    return services.zone_named(name) if name else viewer_zone()


def parse(report: str) -> schemas.ReportQuery:
    """The page's query, checked by the reports' own parser (a ``DomainError`` saying what is
    wrong); empty form fields are absent, and a report without ``by`` gets its usual one."""
    values = {name: (request.args.get(name, "").strip() or None) for name in PARAMS}
    values["by"] = values["by"] or DEFAULT_GROUP.get(report)
    for name in ("account", "product", "affiliate", "country"):
        if name not in FILTERS[report] and values[name] is not None:
            raise DomainError(f"{name}: the {report} report has no such filter")
    if report == "today" and (values["from"] or values["to"]):
        raise DomainError("the today report covers today: no from or to")
    return schemas.parse_query(values, report, request_zone().key,
                               settings("reports")["max_days"])


def run(report: str, query: schemas.ReportQuery) -> Any:
    """The report's rows (a ``TodayReport`` for today), read from the rollups."""
    by = query.by or ""
    if report == "sales":
        return run_read(lambda c: services.sales_report(c, by, query.period, query.filters))
    if report == "affiliates":
        return run_read(
            lambda c: services.affiliates_report(c, by, query.period, query.filters))
    return run_read(lambda c: services.today_report(c, query.period.zone,
                                                    query.filters.account))


def chart_of(report: str, query: schemas.ReportQuery, answer: Any) -> dict[str, Any]:
    ledger = ledger_currency()
    by = query.by or ""
    if report == "today":
        minutes = answer.minutes
        keys = list(dict.fromkeys(r.key for r in minutes))
        return charts.time_series(minutes, keys, ledger, (("gross", "Gross"),), kind="bar")
    if report == "affiliates":
        return charts.affiliate_groups(answer, by)
    if by == "weekday-hour":
        return charts.weekday_hours(answer)
    if by in ("day", "hour", "weekday"):
        # Every day, hour or weekday on the axis, those without sales at 0.
        keys = {"day": charts.days_between(query.period.first, query.period.last),
                "hour": [f"{h:02d}" for h in range(24)],
                "weekday": list(services.WEEKDAYS)}[by]
        return charts.time_series(answer, keys, ledger, kind="line" if by == "day" else "bar")
    return charts.sales_groups(answer, ledger)


def _page(report: str) -> Any:
    error, status, answer, query = None, 200, None, None
    try:
        query = parse(report)
        answer = run(report, query)
    except DomainError as exc:
        error, status, query = exc.message, exc.status, None
    rows = answer if isinstance(answer, list) else None
    return render_template(
        "admin/report.html", report=report, reports=REPORTS, groups=GROUPS.get(report, ()),
        filters=FILTERS[report], args=request.args, error=error, query=query,
        zone=(query.period.zone.key if query else request.args.get("tz", "")),
        zones=zone_names(), by=query.by if query else request.args.get("by", ""),
        today=None if report != "today" or answer is None else answer,
        rows=rows[:PAGE_ROWS] if rows is not None else None,
        cut=rows is not None and len(rows) > PAGE_ROWS, page_rows=PAGE_ROWS,
        columns=AFFILIATES_TABLE if report == "affiliates" else SALES_TABLE,
        chart=None if answer is None or query is None else chart_of(report, query, answer),
        csv_args={k: v for k, v in request.args.items() if k in PARAMS and v},
    ), status


def _csv(report: str) -> Response:
    try:
        query = parse(report)
        answer = run(report, query)
    except DomainError as exc:
        abort(exc.status, exc.message)
    if report == "today":
        rows = [("total", r) for r in answer.total] + [("accounts", r) for r in answer.accounts] \
            + [("minutes", r) for r in answer.minutes]
        return csv_response("today.csv", schemas.TODAY_COLUMNS,
                            ([part, *(getattr(r, c) for c in schemas.SALES_COLUMNS)]
                             for part, r in rows))
    columns = schemas.SALES_COLUMNS if report == "sales" else schemas.AFFILIATE_COLUMNS
    # The services' Decimals and ints as they are (a negative net stays a number); the text
    # cells (a group's key) get csvout's guard against spreadsheet formulas.
    return csv_response(f"{report}-by-{query.by}.csv", columns,
                        ([getattr(r, c) for c in columns] for r in answer))


def _views(report: str) -> tuple[Callable[[], Any], Callable[[], Response]]:
    return (lambda: _page(report)), (lambda: _csv(report))


for _report in REPORTS:
    _page_view, _csv_view = _views(_report)
    bp.add_url_rule(f"/reports/{_report}", f"reports_{_report}", _page_view, methods=["GET"])
    bp.add_url_rule(f"/reports/{_report}.csv", f"reports_{_report}_csv", _csv_view,
                    methods=["GET"])


@bp.get("/reports", endpoint="reports")
def reports_index() -> Response:
    return redirect(url_for("admin.reports_sales"))
