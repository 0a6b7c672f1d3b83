"""The report benchmark's fast seeder (bench/report_seed.py: numpy sums, bulk inserts) writes
exactly the rollups that the write paths' own functions (``add_sale_facts`` /
``add_click_facts``) make of the same generated orders and clicks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import inspect, select

from affsrv.extensions import db
from affsrv.reports.models import CLICK_ROLLUPS, SALES_ROLLUPS
from affsrv.reports.rollups import add_click_facts, add_sale_facts, all_rollup_tables
from bench.report_seed import (
    Shape,
    _cents,
    _money_texts,
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


def _index_names(app) -> dict[str, set[str]]:
    with app.app_context():
        found = inspect(db.engine)
        return {t.name: {i["name"] for i in found.get_indexes(t.name)}
                for t in all_rollup_tables()}


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
    indexes = _index_names(app)
    assert indexes["report_sales_q"]  # the wide rollups' filter indexes
    with app.app_context():
        written = write_rollups(db.engine, generated, log=lambda line: None)
    # It loads each table without its indexes and builds them after: all of them are back.
    assert _index_names(app) == indexes
    by_fast_seeder = _contents(app)
    assert written == sum(len(rows) for rows in by_fast_seeder.values())
    for rollup in (*SALES_ROLLUPS, *CLICK_ROLLUPS):
        name = rollup.table.name
        assert by_fast_seeder[name], name
        assert by_fast_seeder[name] == by_write_path[name], name


IPS = {"US": "8.8.8.8", "GB": "81.2.69.160", "DE": "217.0.0.1"}


def test_fast_seeder_writes_what_the_real_write_paths_and_recount_make(make_app):
    """The same generated business stored for real: each sale, refund and chargeback as a
    ClickBank notification (its commission recorded and reversed by ClickBank intake) at its
    moment, each click through the click writer; the rollups the writes keep, those
    `affsrv report recount` counts from the stored rows, and the fast seeder's are one."""
    import time_machine

    from affsrv.reports.models import CLICK_ROLLUPS, SALES_ROLLUPS
    from tests.clickbank.support import add_cb_account, run_cli
    from tests.helpers import add_affiliate, add_product
    from tests.reports.support import store

    shape = Shape(accounts=2, products=3, affiliates=3, postals=4, links=4, states=2,
                  countries=tuple(IPS))
    generated = generate(40, 60, START, END, seed=5, shape=shape)
    assert {int(k) for k in generated.kind} == {0, 1, 2}
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    for i in range(shape.accounts):
        add_cb_account(app, f"acct{i}")
    for i in range(shape.products):
        assert add_product(app, sku=f"P{i + 1}", commission_rate="10") == i + 1
    for i in range(shape.affiliates):
        add_affiliate(app, code=f"aff{i}")
    links = app.extensions["referral_links"]
    for k in range(1, shape.links + 1):  # one at a time: ids 1, 2, ... in this order
        with app.app_context(), db.engine.begin() as connection:
            assert links.lookup(connection, [f"https://ref{k}.example/"]) == {
                f"https://ref{k}.example/": k}
    g, countries = generated, list(shape.countries)
    kinds = {0: "SALE", 1: "RFND", 2: "CGBK"}
    for i in sorted(range(len(g.at)), key=lambda i: (int(g.at[i]), int(g.kind[i]))):
        at = datetime.fromtimestamp(int(g.at[i]), UTC)
        amount = f"{'-' if g.kind[i] else ''}{int(g.amount[i]) / 100:.2f}"
        country = countries[int(g.country[i])]
        with time_machine.travel(at, tick=False):
            store(client, f"O{int(g.order[i])}", at.isoformat(), amount,
                  kind=kinds[int(g.kind[i])], account=f"acct{int(g.account[i])}",
                  item=f"P{int(g.product[i])}", affiliate=f"aff{int(g.affiliate[i])}",
                  method=["VISA", "MSTR", "PYPL", "AMEX", "DISC"][int(g.method[i])],
                  country=country,
                  state=f"S{int(g.state[i]) - 1}" if g.state[i] else "",
                  postal=f"{int(g.postal[i]):05d}", currency=["USD", "EUR"][int(g.currency[i])])
    with app.app_context():
        app.extensions["click_buffer"]._write([
            (int(g.click_affiliate[i]), int(g.click_product[i]) or None,
             f"https://ref{int(g.click_link[i])}.example/", IPS[countries[int(g.click_country[i])]],
             "bench", datetime.fromtimestamp(int(g.click_at[i]), UTC))
            for i in range(len(g.click_at))])
    by_writes = _contents(app)
    assert run_cli(app, "report", "recount").exit_code == 0
    by_recount = _contents(app)
    _empty(app)
    with app.app_context():
        write_rollups(db.engine, generated, log=lambda line: None)
    by_fast_seeder = _contents(app)
    for rollup in (*SALES_ROLLUPS, *CLICK_ROLLUPS):
        name = rollup.table.name
        assert by_writes[name], name
        assert by_recount[name] == by_writes[name], name
        assert by_fast_seeder[name] == by_recount[name], name


def test_money_texts_are_the_amounts_decimal_text():
    cents = np.array([0, 1, -1, 5, -5, 99, 100, -100, 12345, -12345, 10**12 + 7, -(10**12) - 70],
                     np.int64)
    assert _money_texts(cents) == [str(_cents(v)) for v in cents.tolist()]
    assert _money_texts(cents)[:4] == ["0.00", "0.01", "-0.01", "0.05"]
