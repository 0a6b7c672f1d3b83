"""Bad input is a clear 4xx (and a CLI error), never a 500; the reporting key; recount and
check; the migration that builds the rollups for data stored before them; racing writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import delete, text, update

from affsrv.extensions import db
from affsrv.reports.models import minutes, narrow_m
from tests.clickbank.support import add_cb_account, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.reports.support import both, figures, migrate_down_and_up, report_key, store

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def shop(make_app):
    app = make_app(reports={"max_days": 62})
    add_cb_account(app)
    return app, app.test_client(), report_key(app)


@pytest.mark.parametrize(("params", "message"), [
    ({"by": "planet"}, "by: unknown group 'planet'"),
    ({}, "by: required"),
    ({"by": "day", "from": "2026-02-30"}, "from: Not a valid date."),
    ({"by": "day", "to": "yesterday"}, "to: Not a valid date."),
    ({"by": "day", "from": "2026-03-05", "to": "2026-03-04"},
     "from 2026-03-05 is after to 2026-03-04"),
    ({"by": "day", "tz": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
    ({"by": "day", "tz": "../../etc/passwd"}, "unknown time zone"),
    ({"by": "day", "from": "2026-01-01", "to": "2026-03-31"},
     "the range is 90 days; at most 62 ([reports] max_days)"),
    ({"by": "day", "country": "USA"}, "country: two letters"),
    ({"by": "day", "format": "xml"}, "format: Must be one of"),
    ({"by": "day", "from": "0001-01-01", "to": "0001-01-02"}, "dates must be between"),
])
def test_bad_input_is_a_400_with_a_clear_message(shop, params, message):
    _, client, key = shop
    answer = client.get("/reports/v1/sales", query_string={**MARCH, **params},
                        headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 400
    assert answer.json["status"] == "error"
    assert message in answer.json["message"]


def test_bad_input_on_the_command_line(shop):
    app, _, _ = shop
    for args, message in [
        (["--by", "planet"], "Invalid value for '--by'"),
        (["--by", "day", "--from", "2026-02-30"], "from: Not a valid date."),
        (["--by", "day", "--from", "2026-03-05", "--to", "2026-03-04"], "is after to"),
        (["--by", "day", "--tz", "Nowhere/City"], "unknown time zone 'Nowhere/City'"),
        (["--by", "day", "--from", "2025-01-01", "--to", "2026-03-31"], "at most 62"),
    ]:
        result = run_cli(app, "report", "sales", *args)
        assert result.exit_code != 0
        assert message in result.output
    result = run_cli(app, "report", "affiliates", "--by", "method")
    assert result.exit_code != 0 and "Invalid value for '--by'" in result.output
    result = run_cli(app, "report", "today", "--tz", "Nowhere/City")
    assert result.exit_code == 1 and "unknown time zone" in result.output


def test_the_affiliates_report_refuses_an_account_filter_and_a_sales_group(shop):
    _, client, key = shop
    for params, message in [({"by": "method"}, "by: unknown group 'method'"),
                            ({"by": "day", "account": "x"}, "no account filter")]:
        answer = client.get("/reports/v1/affiliates", query_string={**MARCH, **params},
                            headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 400 and message in answer.json["message"]


def test_reporting_key_created_listed_revoked_with_the_cli(shop):
    app, client, _ = shop
    created = run_cli(app, "report", "key", "create", "--label", "sheet")
    assert created.exit_code == 0
    key = created.output.splitlines()[-1]
    assert key.startswith("affsrv_report_")
    path = "/reports/v1/sales?by=country&from=2026-03-01&to=2026-03-31"
    assert client.get(path, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get(f"{path}&key={key}").status_code == 200  # a spreadsheet's URL
    listed = run_cli(app, "report", "key", "list")
    assert "sheet" in listed.output and key not in listed.output
    with app.app_context():
        stored = db.session.execute(text("SELECT key_hash FROM report_keys")).scalars().all()
    assert key not in stored  # only its hash
    key_id = next(line.split()[0] for line in listed.output.splitlines() if "sheet" in line)
    assert run_cli(app, "report", "key", "revoke", key_id).exit_code == 0
    refused = client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403 and refused.json["status"] == "error"
    assert run_cli(app, "report", "key", "revoke", "999").exit_code == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic abc"}])
def test_without_a_valid_key_403(shop, headers):
    _, client, _ = shop
    for path in ("sales?by=day", "affiliates?by=day", "today"):
        answer = client.get(f"/reports/v1/{path}", headers=headers)
        assert answer.status_code == 403
        assert "reporting key" in answer.json["message"]
    assert client.get("/reports/v1/nothing", headers=headers).json["status"] == "error"


def _scenario(app, api_key):
    client = app.test_client()
    pid = add_product(app, sku="WIDGET-1", commission_rate="10")
    add_affiliate(app, code="annie")
    store(client, "R1", "2026-03-02T10:05:00Z", "50.00", affiliate="annie", postal="80202")
    store(client, "R1", "2026-03-03T09:00:00Z", "-50.00", kind="RFND", affiliate="annie")
    store(client, "R2", "2026-03-02T10:07:00Z", "20.00", currency="EUR", country="DE")
    with time_machine.travel(datetime(2026, 3, 4, 15, 30, tzinfo=UTC), tick=False):
        api(client, api_key, "annie", commission={"product": pid, "saletotal": "100.00",
                                                  "commtotal": "15.00", "ip": "8.8.8.8"})
        client.get(f"/r/annie?p={pid}", environ_base={"REMOTE_ADDR": "8.8.8.8"})
    return client


def test_check_agrees_then_finds_a_difference_and_recount_repairs_it(shop, api_key):
    app, client, key = shop
    _scenario(app, api_key)
    before = both(app, client, key, "sales", by="country", **MARCH)
    check = run_cli(app, "report", "check")
    assert check.exit_code == 0, check.output
    assert "agree" in check.output
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(delete(narrow_m["country"].table))
        conn.execute(update(minutes.table).values(orders=minutes.table.c.orders + 1))
    assert both(app, client, key, "sales", by="country", **MARCH) != before
    check = run_cli(app, "report", "check")
    assert check.exit_code == 1
    assert "report_by_country_m" in check.output and "report_minutes" in check.output
    recount = run_cli(app, "report", "recount")
    assert recount.exit_code == 0 and "report_sales_d:" in recount.output
    assert run_cli(app, "report", "check").exit_code == 0
    assert both(app, client, key, "sales", by="country", **MARCH) == before
    assert figures(before, "orders", "gross", "net", "commissions") == {
        ("US", "USD"): (2, "150.00", "100.00", "15.00"),
        ("DE", "EUR"): (1, "20.00", "20.00", "0.00")}


def test_recount_on_sqlite_works_with_a_large_page_cache_and_gives_the_connection_its_own_back(
        shop, api_key):
    """A recount is one transaction adding to every rollup: with SQLite's default 2 MB page
    cache it kept writing dirty pages out to the WAL (docs/reports.md, *Recount and check*).
    It sets 256 MB for the recount's statements and the connection's own size after;
    PostgreSQL is left alone."""
    from sqlalchemy import event

    from affsrv.reports.rollups import rebuild_rollups

    app, _, _ = shop
    _scenario(app, api_key)
    with app.app_context(), db.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA cache_size = -3000")
        seen = []
        event.listen(conn, "before_cursor_execute", lambda *args: seen.append(args[2]))
        counts = rebuild_rollups(conn, "shop")
        pragmas = [s for s in seen if s.startswith("PRAGMA")]
        after = conn.exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
    assert counts["report_sales_d"] > 0
    if sqlite:
        assert pragmas == ["PRAGMA cache_size", "PRAGMA cache_size = -262144",
                           "PRAGMA cache_size = -3000"]
        # Set before the stored rows are read (and the rollups added to), restored after.
        first_read = next(i for i, s in enumerate(seen) if s.startswith("SELECT"))
        assert seen.index("PRAGMA cache_size = -262144") < first_read
        assert after == -3000
    else:
        assert pragmas == []


def test_migration_builds_the_rollups_of_data_stored_before_it(shop, api_key, tmp_path):
    """Down to the revision before the reports (their tables dropped), up again: the rollups
    are built from the stored orders, commissions and clicks."""
    app, _, _ = shop
    _scenario(app, api_key)
    migrate_down_and_up(app, tmp_path, "5ce6ee9bf96d-1")  # before the rollups' revision
    key = report_key(app)  # the keys went with the downgrade
    client = app.test_client()
    assert figures(both(app, client, key, "sales", by="country", **MARCH),
                   "orders", "gross", "refunds", "commissions") == {
        ("US", "USD"): (2, "150.00", 1, "15.00"), ("DE", "EUR"): (1, "20.00", 0, "0.00")}
    assert figures(both(app, client, key, "affiliates", by="country", **MARCH),
                   "clicks", "sales") == {("US", "USD"): (1, 2), ("DE", "EUR"): (0, 1)}
    assert run_cli(app, "report", "check").exit_code == 0


def test_racing_writers_lose_nothing(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    pid = add_product(app)
    codes = [add_affiliate(app, code=f"racer{n}") for n in range(2)]
    key = report_key(app)
    errors = []

    def write(code):
        client = app.test_client()
        for n in range(10):
            r = api(client, api_key, code, commission={
                "product": pid, "saletotal": "1.00", "commtotal": "0.10", "ref": f"{code}-{n}"})
            if r.json["status"] != "ok":
                errors.append(r.json)

    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        threads = [threading.Thread(target=write, args=(code,)) for code in codes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        # Every commission went into the same rollup rows (one quarter hour, one account).
        rows = both(app, app.test_client(), key, "sales", by="account", **MARCH)
    assert figures(rows, "orders", "gross", "commissions") == {
        ("shop", "USD"): (20, "20.00", "2.00")}

