"""Builders for the report tests: ClickBank transactions, shop commissions, clicks, and
running the reports through the CLI and HTTP."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from affsrv.reports.keys import create_report_key
from tests.clickbank.support import ACCOUNT, notification, post_ins, run_cli


def address(country: str, state: str = "", postal: str = "") -> dict[str, Any]:
    return {"address": {"address1": "1 Main St", "city": "Town", "state": state,
                        "postalCode": postal, "country": country}}


def store(client: FlaskClient, receipt: str, when: str, amount: str, *, kind: str = "SALE",
          currency: str = "USD", country: str = "US", state: str = "", postal: str = "",
          method: str = "VISA", item: str = "WIDGET-1", affiliate: str = "",
          account: str = ACCOUNT) -> None:
    """Store one ClickBank transaction (``when`` in ISO 8601 with its offset)."""
    document = notification(
        transactionTime=when, receipt=receipt, transactionType=kind, affiliate=affiliate,
        totalOrderAmount=amount, totalAccountAmount=amount, paymentMethod=method,
        currency=currency, vendor=account,
        customer={"billing": address(country, state, postal)},
        lineItems=[{"itemNo": item, "productTitle": "Item", "shippable": False,
                    "recurring": False, "accountAmount": amount, "quantity": 1,
                    "lineItemType": "ORIGINAL", "productPrice": amount,
                    "affiliatePayout": "0.00"}],
    )
    answer = post_ins(client, document, account=account)
    assert answer.status_code == 200, answer.get_data(as_text=True)


def report_key(app: Flask) -> str:
    with app.app_context():
        return create_report_key("tests")[1]


def cli_json(app: Flask, *args: str) -> Any:
    result = run_cli(app, "report", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def http_json(client: FlaskClient, key: str, path: str, **params: str) -> Any:
    answer = client.get(f"/reports/v1/{path}", query_string=params,
                        headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json


def http_csv(client: FlaskClient, key: str, path: str, **params: str) -> list[dict[str, str]]:
    answer = client.get(f"/reports/v1/{path}", query_string={**params, "format": "csv"},
                        headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def both(app: Flask, client: FlaskClient, key: str, report: str, **params: str) -> Any:
    """The report through the CLI and through HTTP, which must agree; the answer."""
    args = []
    for name, value in params.items():
        args += [f"--{name}", value]
    by_cli = cli_json(app, report, *args)
    by_http = http_json(client, key, report, **params)
    assert by_cli == by_http
    return by_http


def figures(rows: list[dict[str, Any]], *names: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """``{(key, currency): (figure, ...)}`` of report rows."""
    return {(r["key"], r["currency"]): tuple(r[n] for n in names) for r in rows}


def migrate_down_and_up(app: Flask, tmp_path: Path, revision: str) -> set[str]:
    """Upgrade ``app``'s database as an existing one would be: stamp the schema ``create_all``
    made at the head, migrate down to ``revision`` (the tables added after it dropped), then
    up again. Returns the tables there were at ``revision``; the stamp is removed after."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from affsrv.extensions import db
    from tests.test_migrations import _app

    migrating = _app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    with migrating.app_context():
        directory = migrating.extensions["migrate"].directory
        config = Config()
        config.set_main_option("script_location", directory)
        head = ScriptDirectory.from_config(config).get_current_head()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) "
                              "NOT NULL PRIMARY KEY)"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head})
        downgrade(directory=directory, revision=revision)
        tables = set(db.inspect(db.engine).get_table_names())
        upgrade(directory=directory)
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        db.engine.dispose()
    return tables
