"""The read path of the Data API's ops (``affsrv.db.reads``): one kept connection and cursor
per thread, and a connection lost under it replaced without the client seeing an error."""

from __future__ import annotations

import psycopg
from flask import Flask
from flask.testing import FlaskClient

from affsrv.db.reads import run_read
from affsrv.extensions import db
from tests.helpers import add_affiliate, add_product, api


def _kept(app: Flask) -> tuple[object, object]:
    """The thread's read DBAPI connection and the cursor it keeps."""
    with app.app_context():
        def both(conn: object) -> tuple[object, object]:
            fairy = conn.connection  # type: ignore[attr-defined]
            return fairy.driver_connection, fairy.info.get("affsrv_read_cursor")

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
