"""``/reports/v1``: the reports as JSON or CSV, for a spreadsheet, a BI tool or a script,
behind a reporting key (``Authorization: Bearer KEY``, or ``?key=KEY`` for a spreadsheet that
cannot send headers)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from affsrv.db.reads import run_read
from affsrv.error_formats import json_error, register_error_format
from affsrv.errors import DomainError, Forbidden
from affsrv.ratelimits import count_failure, failure_limit
from affsrv.reports import schemas, services
from affsrv.reports.keys import is_valid_report_key
from affsrv.settings import settings

PREFIX = "/reports/v1"
bp = Blueprint("reports", __name__, url_prefix=PREFIX)
# Wrong reporting keys are throttled per address like every other key (affsrv.ratelimits).
failure_limit("report_key_failures_per_address")(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_error_format(app, (PREFIX,), json_error)


@bp.errorhandler(DomainError)
def _refused(exc: DomainError) -> Response:
    return json_error(exc.status, exc.message)


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.args.get("key")


@bp.before_request
def _require_key() -> None:
    if not is_valid_report_key(_presented_key()):
        count_failure()
        raise Forbidden("a valid reporting key is required (affsrv report key create)")


def _query(report: str) -> schemas.ReportQuery:
    values = {name: request.args.get(name) for name in (
        "by", "from", "to", "tz", "account", "product", "affiliate", "country", "format")}
    return schemas.parse_query(values, report, settings("server")["timezone"],
                               settings("reports")["max_days"])


def _answer(rows: list[dict[str, Any]], columns: list[str], format_: str, name: str) -> Any:
    if format_ == "csv":
        return Response(schemas.as_csv(rows, columns), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return jsonify(rows)


@bp.get("/sales")
def sales() -> Any:
    query = _query("sales")
    by = query.by or ""
    rows = run_read(lambda conn: services.sales_report(conn, by, query.period, query.filters))
    return _answer(schemas.sales_rows.dump(rows), schemas.SALES_COLUMNS, query.format,
                   f"sales-by-{by}")


@bp.get("/affiliates")
def affiliates() -> Any:
    query = _query("affiliates")
    by = query.by or ""
    rows = run_read(
        lambda conn: services.affiliates_report(conn, by, query.period, query.filters))
    return _answer(schemas.affiliate_rows.dump(rows), schemas.AFFILIATE_COLUMNS, query.format,
                   f"affiliates-by-{by}")


@bp.get("/today")
def today() -> Any:
    query = _query("today")
    report = run_read(lambda conn: services.today_report(
        conn, query.period.zone, query.filters.account))
    answer = schemas.today_answer.dump(report)
    if query.format == "csv":
        return _answer(schemas.today_rows(answer), schemas.TODAY_COLUMNS, "csv", "today")
    return jsonify(answer)
