"""The read path of the Data API's ops (``affsrv.db.reads``): one kept connection and cursor
per thread, and a connection lost under it replaced without the client seeing an error."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from affsrv.db.reads import run_read
from tests.helpers import add_affiliate, api


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
