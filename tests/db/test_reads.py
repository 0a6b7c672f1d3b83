"""The read path of the Data API's ops (``affsrv.db.reads``): one kept connection and cursor
per thread, and a connection lost under it replaced without the client seeing an error."""

from __future__ import annotations

from typing import Any

import psycopg
from flask import Flask
from flask.testing import FlaskClient

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.services import ledger_currency
from affsrv.db.reads import all_rows, run_read
from affsrv.extensions import db
from affsrv.payments.services import record_payment
from tests.helpers import add_affiliate, add_product, api


def _kept(app: Flask) -> tuple[object, object]:
    """The thread's read DBAPI connection and what it keeps for the reads: the cursor (SQLite),
    the Transformer and the statements prepared on it (PostgreSQL)."""
    with app.app_context():
        def both(conn: object) -> tuple[object, object]:
            fairy = conn.connection  # type: ignore[attr-defined]
            kept = fairy.info.get("affsrv_read_cursor") or fairy.info.get("affsrv_read_prepared")
            return fairy.driver_connection, kept

        return run_read(both)


def test_read_cursor_is_made_once_and_kept(app: Flask, client: FlaskClient, api_key: str) -> None:
    code = add_affiliate(app)
    assert api(client, api_key, code, data={"op": "payments"}).get_json() == {
        "status": "ok", "data": {},
    }
    connection, cursor = _kept(app)
    assert cursor is not None
    for op in ("commissions", "referrals", "payments"):
        assert api(client, api_key, code, data={"op": op}).status_code == 200
    assert _kept(app) == (connection, cursor)


def test_connection_lost_under_the_kept_cursor_is_replaced(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    """The server (or a restart) closing the connection: the next call still answers, on a new
    connection with a new cursor, and the old cursor is never used again."""
    code = add_affiliate(app)
    assert api(client, api_key, code, data={"op": "payments"}).status_code == 200
    connection, cursor = _kept(app)
    connection.close()  # type: ignore[attr-defined]

    answer = api(client, api_key, code, data={"op": "payments"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"status": "ok", "data": {}}
    new_connection, new_cursor = _kept(app)
    assert new_connection is not connection
    assert new_cursor is not None and new_cursor is not cursor


def _lose_connections(app: Flask) -> int:
    """What a database restart does to the app's connections, without stopping the server the
    other tests use: PostgreSQL terminates every one of them server-side. SQLite has no server
    to restart; there the connection the read path keeps between requests is closed under it
    (as in the test above). The number of connections lost."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        connection, _ = _kept(app)
        connection.close()  # type: ignore[attr-defined]
        return 1
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        return len(admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


def test_every_api_path_answers_after_the_database_dropped_its_connections(
    make_app, api_key: str
) -> None:
    """After a restart every pooled and kept connection is dead; the first calls must not
    answer 503 (or 500) once the database is back: reads retry on a fresh connection, writes
    check theirs out of the pool with a ping, the click buffer too."""
    app = make_app(commissions={"require_approval": False})
    client = app.test_client()
    code, pid = add_affiliate(app), add_product(app)
    sale = {"product": pid, "saletotal": "10.00", "commtotal": "1.00"}
    for op in ("info", "commissions", "payments", "referrals"):
        assert api(client, api_key, code, data={"op": op}).status_code == 200
    assert api(client, api_key, code, commission={**sale, "ref": "o1"}).status_code == 200

    assert _lose_connections(app) >= 1
    for op in ("info", "commissions", "payments", "referrals"):
        answer = api(client, api_key, code, data={"op": op})
        assert answer.status_code == 200, (op, answer.get_data(as_text=True))
    assert _lose_connections(app) >= 1
    answer = api(client, api_key, code, commission={**sale, "ref": "o2"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert _lose_connections(app) >= 1
    answer = api(client, api_key, code, referrer={"url": "https://blog.example/a"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert _lose_connections(app) >= 1
    landing = client.get(f"/r/{code}?p={pid}", headers={"Referer": "https://blog.example/b"})
    assert landing.status_code == 302 and "maff=" in landing.headers["Set-Cookie"]

    totals = api(client, api_key, code, data={"op": "commissions"}).get_json()["data"]
    assert totals[str(pid)]["commissions"] == "2"
    referrals = api(client, api_key, code, data={"op": "referrals"}).get_json()["data"]
    assert {r["link"] for r in referrals["0"]["referrers"]} == {"https://blog.example/a"}
    assert {r["link"] for r in referrals[str(pid)]["referrers"]} == {"https://blog.example/b"}


def _data_api_statements() -> dict[str, Any]:
    from affsrv.affiliates.services import _INFO_BY_CODE
    from affsrv.commissions.services import _TOTALS as COMMISSIONS
    from affsrv.commissions.services import _TOTALS_FOR_PRODUCT
    from affsrv.payments.services import _TOTALS as PAYMENTS
    from affsrv.tracking.services import _REFERRAL_COUNTS, _REFERRAL_COUNTS_FOR_PRODUCT

    return {"info": _INFO_BY_CODE, "commissions": COMMISSIONS,
            "commissions (product)": _TOTALS_FOR_PRODUCT, "payments": PAYMENTS,
            "referrals": _REFERRAL_COUNTS, "referrals (product)": _REFERRAL_COUNTS_FOR_PRODUCT}


def test_lean_reads_give_what_sqlalchemys_execute_gives(make_app, api_key: str) -> None:
    """Every Data API statement read the lean way (``all_rows``: on PostgreSQL a statement
    prepared on the connection and run through psycopg's pq layer, on SQLite the kept cursor)
    answers the same values, of the same types, as SQLAlchemy's own ``execute``: money, times,
    booleans, JSON, several products, totals after a paid commission's clawback."""
    app = make_app(commissions={"require_approval": False})
    client = app.test_client()
    code = add_affiliate(app, notes="ünïcode", extra={"tier": 2, "tags": ["a"]})
    products = [add_product(app, name=f"P{i}") for i in range(3)]
    for n, pid in enumerate(products):
        sale = {"product": pid, "saletotal": f"{10 + n}.05", "commtotal": f"{1 + n}.50"}
        assert api(client, api_key, code, commission={**sale, "ref": f"o{n}"}).status_code == 200
    for n, pid in enumerate([*products, None]):
        referrer = {"url": f"https://blog.example/{n}", **({"product": pid} if pid else {})}
        assert api(client, api_key, code, referrer=referrer).status_code == 200
    with app.app_context():
        affiliate = db.session.query(Affiliate).filter_by(code=code).one()
        record_payment(affiliate, method="Stripe", amount="3.90")  # pays o0 (1.50) whole
        record_payment(affiliate, method="Wire", amount="0.01")
    # o0 was paid: its refund is clawed back with a negative commission.
    refund = {"product": products[0], "ref": "o0", "type": "refund"}
    assert api(client, api_key, code, commission=refund).status_code == 200
    with app.app_context():
        affiliate = db.session.query(Affiliate).filter_by(code=code).one()
        params = {"code": code, "affiliate_id": affiliate.id, "product_id": products[1],
                  "currency": ledger_currency()}

        for name, statement in _data_api_statements().items():
            wanted = {k: v for k, v in params.items() if k in statement.compile().params}
            lean = run_read(lambda conn, st=statement, p=wanted: all_rows(conn, st, p))
            lean_again = run_read(lambda conn, st=statement, p=wanted: all_rows(conn, st, p))
            with db.engine.connect() as connection:
                full = [tuple(row) for row in connection.execute(statement, wanted)]
            assert full, name  # the statement found the rows made above
            assert [tuple(row) for row in lean] == full, name
            assert [tuple(row) for row in lean_again] == full, name  # the prepared run too
            for lean_row, full_row in zip(lean, full, strict=True):
                assert [type(v) for v in lean_row] == [type(v) for v in full_row], name


def _forget_prepared_statements(app: Flask) -> list[str]:
    """The server forgetting the session's prepared statements (what a ``DISCARD ALL``, or a
    pooler handing the connection a new server session, does) on the kept read connection;
    the names it had prepared. SQLite prepares nothing between calls: an empty list."""
    with app.app_context():
        def forget(conn: Any) -> list[str]:
            if conn.dialect.name != "postgresql":
                return []
            driver = conn.connection.driver_connection
            names = [row[0] for row in driver.execute(
                "SELECT name FROM pg_prepared_statements WHERE name LIKE 'affsrv_read_%'")]
            driver.execute("DEALLOCATE ALL")
            return names

        return run_read(forget)


def test_a_read_whose_prepared_statement_the_server_forgot_prepares_it_again(
    app: Flask, client: FlaskClient, api_key: str
) -> None:
    code = add_affiliate(app)
    before = {op: api(client, api_key, code, data={"op": op}).get_json()
              for op in ("info", "commissions", "payments", "referrals")}
    forgotten = _forget_prepared_statements(app)
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    # On PostgreSQL every op's statement had been prepared on the kept connection.
    assert len(forgotten) >= (4 if postgresql else 0)
    for op, answer in before.items():
        again = api(client, api_key, code, data={"op": op})
        assert again.status_code == 200, (op, again.get_data(as_text=True))
        assert again.get_json() == answer, op
    assert sorted(_forget_prepared_statements(app)) == sorted(forgotten)  # prepared again
