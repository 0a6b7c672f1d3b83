"""The report benchmark's fast seeder (bench/report_seed.py: numpy sums, bulk inserts) writes
exactly the rollups that the write paths' own functions (``add_sale_facts`` /
``add_click_facts``) make of the same generated orders and clicks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from affsrv.extensions import db
from affsrv.reports.models import CLICK_ROLLUPS, SALES_ROLLUPS
from affsrv.reports.rollups import add_click_facts, add_sale_facts, all_rollup_tables
from bench.report_seed import (
    Shape,
    click_facts,
    generate,
    sale_facts,
    write_rollups,
)

START = int(datetime(2026, 1, 20, tzinfo=UTC).timestamp())
END = int(datetime(2026, 4, 10, tzinfo=UTC).timestamp())
SHAPE = Shape(accounts=2, products=4, affiliates=5, postals=7, links=6, states=3)


def _contents(app) -> dict[str, list[tuple]]:
    with app.app_context(), db.engine.connect() as connection:
        return {t.name: sorted(tuple(row) for row in connection.execute(select(t)))
                for t in all_rollup_tables()}


def _empty(app) -> None:
    with app.app_context(), db.engine.begin() as connection:
        for table in all_rollup_tables():
            connection.execute(table.delete())


def test_fast_seeder_writes_what_the_write_paths_functions_add(make_app, monkeypatch):
    monkeypatch.setattr("bench.report_seed._SLICE", 7)  # inserted a slice at a time
    app = make_app()
    generated = generate(400, 900, START, END, seed=3, shape=SHAPE)
    assert {int(k) for k in generated.kind} == {0, 1, 2}  # sales, refunds and chargebacks
    with app.app_context(), db.engine.begin() as connection:
        add_sale_facts(connection, sale_facts(generated))
        add_click_facts(connection, click_facts(generated))
    by_write_path = _contents(app)
    _empty(app)
    with app.app_context():
        written = write_rollups(db.engine, generated, log=lambda line: None)
    by_fast_seeder = _contents(app)
    assert written == sum(len(rows) for rows in by_fast_seeder.values())
    for rollup in (*SALES_ROLLUPS, *CLICK_ROLLUPS):
        name = rollup.table.name
        assert by_fast_seeder[name], name
        assert by_fast_seeder[name] == by_write_path[name], name
