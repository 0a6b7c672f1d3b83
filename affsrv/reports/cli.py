"""``affsrv report sales|affiliates|today|recount|check`` and ``affsrv report key ...``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext

from affsrv.cli.common import ID, domain_errors, local_time, print_table
from affsrv.db.reads import run_read
from affsrv.extensions import db
from affsrv.reports import schemas, services
from affsrv.reports.keys import create_report_key, list_report_keys, revoke_report_key
from affsrv.reports.rollups import compare_rollups, rebuild_rollups
from affsrv.settings import settings


@click.group("report")
def group() -> None:
    """Reports: sales, affiliates and links, today live (docs/reports.md)."""


def _query_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--from", "from_", metavar="YYYY-MM-DD",
                     help="First day (in --tz); default: the first of this month."),
        click.option("--to", metavar="YYYY-MM-DD", help="Last day, inclusive; default: today."),
        click.option("--tz", metavar="ZONE",
                     help="IANA time zone of the days and hours; default [server] timezone."),
        click.option("--product", metavar="ID", help="Only this product (affsrv id, or the "
                     "ClickBank item number of a product affsrv does not know)."),
        click.option("--affiliate", metavar="CODE", help="Only this affiliate."),
        click.option("--country", metavar="CC", help="Only this country (ISO 3166, 2 letters)."),
        click.option("--format", "format_", type=click.Choice(["table", "csv", "json"]),
                     default="table", show_default=True),
    ]):
        func = option(func)
    return func


def _parse(report: str, by: str | None, **options: Any) -> schemas.ReportQuery:
    values = {"by": by, "from": options.get("from_"), "to": options.get("to"),
              "tz": options.get("tz"), "account": options.get("account"),
              "product": options.get("product"), "affiliate": options.get("affiliate"),
              "country": options.get("country")}
    return schemas.parse_query(values, report, settings("server")["timezone"],
                               settings("reports")["max_days"])


def _emit(rows: list[dict[str, Any]], columns: list[str], format_: str) -> None:
    if format_ == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif format_ == "csv":
        click.echo(schemas.as_csv(rows, columns), nl=False)
    else:
        print_table(columns, [["-" if row[c] is None or row[c] == "" else row[c]
                               for c in columns] for row in rows])


@group.command("sales")
@click.option("--by", required=True, type=click.Choice(services.SALES_GROUPS),
              help="What each row is.")
@click.option("--account", metavar="A", help="Only this account (ClickBank nickname, or "
              "[reports] shop_account for Data API commissions).")
@_query_options
@with_appcontext
@domain_errors
def sales(by: str, format_: str, **options: Any) -> None:
    """Orders, gross, refunds, chargebacks, net and commissions per group and currency."""
    query = _parse("sales", by, **options)
    rows = run_read(lambda conn: services.sales_report(conn, by, query.period, query.filters))
    _emit(schemas.sales_rows.dump(rows), schemas.SALES_COLUMNS, format_)


@group.command("affiliates")
@click.option("--by", required=True, type=click.Choice(services.AFFILIATE_GROUPS),
              help="What each row is.")
@_query_options
@with_appcontext
@domain_errors
def affiliates(by: str, format_: str, **options: Any) -> None:
    """Clicks, sales, conversion rate and earnings per click per group and currency."""
    query = _parse("affiliates", by, **options)
    rows = run_read(
        lambda conn: services.affiliates_report(conn, by, query.period, query.filters))
    _emit(schemas.affiliate_rows.dump(rows), schemas.AFFILIATE_COLUMNS, format_)


@group.command("today")
@click.option("--tz", metavar="ZONE", help="IANA time zone; default [server] timezone.")
@click.option("--account", metavar="A", help="The minutes of this account alone.")
@click.option("--format", "format_", type=click.Choice(["table", "csv", "json"]),
              default="table", show_default=True)
@with_appcontext
@domain_errors
def today(tz: str | None, account: str | None, format_: str) -> None:
    """Today's sales, refunds and chargebacks: in total, per account, per minute."""
    zone = services.zone_named(tz or settings("server")["timezone"])
    report = run_read(lambda conn: services.today_report(conn, zone, account))
    answer = schemas.today_answer.dump(report)
    if format_ == "json":
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        if format_ == "table":
            click.echo(f"{answer['day']} ({answer['zone']})")
        _emit(schemas.today_rows(answer), schemas.TODAY_COLUMNS, format_)


@group.command("recount")
@with_appcontext
def recount() -> None:
    """Rebuild every report rollup from the stored orders, commissions and clicks."""
    with db.engine.begin() as connection:
        counts = rebuild_rollups(connection, settings("reports")["shop_account"])
    for name, rows in counts.items():
        click.echo(f"{name}: {rows} rows")


@group.command("check")
@with_appcontext
def check() -> None:
    """Compare the rollups with the stored rows; exit status 1 when they differ."""
    with db.engine.connect() as connection:
        differences = compare_rollups(connection, settings("reports")["shop_account"])
    if differences:
        for line in differences:
            click.echo(line)
        click.echo("the report rollups differ from the stored rows: run `affsrv report "
                   "recount`", err=True)
        sys.exit(1)
    click.echo("the report rollups agree with the stored rows")


@group.group("key")
def key_group() -> None:
    """Reporting keys for /reports/v1."""


@key_group.command("create")
@click.option("--label", default="", help="A note to tell keys apart.")
@with_appcontext
@domain_errors
def key_create(label: str) -> None:
    """Create a key; the key is the last line printed, shown only this once."""
    record, plain = create_report_key(label)
    click.echo(f"reporting key {record.id} created; it is not stored in plain text, keep it "
               "now:")
    click.echo(plain)


@key_group.command("list")
@with_appcontext
def key_list() -> None:
    """List keys (never the keys themselves)."""
    print_table(
        ["id", "starts", "label", "created", "revoked"],
        [[k.id, k.prefix + "...", k.label, local_time(k.created_at), local_time(k.revoked_at)]
         for k in list_report_keys()],
    )


@key_group.command("revoke")
@click.argument("key_id", type=ID)
@with_appcontext
@domain_errors
def key_revoke(key_id: int) -> None:
    """Revoke a key by its id."""
    revoke_report_key(key_id)
    click.echo(f"reporting key {key_id} revoked")
