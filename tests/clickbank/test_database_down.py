"""A notification that cannot be stored because the database is down is answered 503."""

import json
from pathlib import Path

import pytest

from affsrv.extensions import db
from tests.clickbank.support import notification, post_ins


@pytest.fixture
def app_first(app):
    """The fixtures empty the tables through the first app built: build a working one first."""
    return app


def test_unreachable_database_answers_503(app_first, make_app):
    # Nothing listens on port 1: every connection attempt fails as if the server were down.
    app = make_app(database={"url": "postgresql://postgres@127.0.0.1:1/affsrv"})
    r = post_ins(app.test_client(), notification())
    assert r.status_code == 503
    assert "database is unavailable" in r.text
    log = Path(app.config["AFFSRV"]["logs"]["dir"]) / "general.log"
    assert json.loads(log.read_text().splitlines()[-1])["event"] == "database unavailable"


def test_unopenable_sqlite_database_answers_503(app_first, make_app, tmp_path):
    directory = tmp_path / "not-a-file.db"
    directory.mkdir()  # SQLite cannot open a directory as its database
    app = make_app(database={"url": f"sqlite:///{directory}"})
    r = post_ins(app.test_client(), notification())
    assert r.status_code == 503


def test_database_dropped_after_start_answers_503_then_stores_once_back(app_first, make_app,
                                                                       tmp_path):
    """The database works when the app starts, then disappears: 503; once back, 200."""
    db_file = tmp_path / "live.db"
    app = make_app(database={"url": f"sqlite:///{db_file}"})
    with app.app_context():
        db.create_all()
        from affsrv.clickbank.services import add_account
        add_account("myvendor", "MYSECRETKEY12345")
        db.engine.dispose()
    moved = tmp_path / "moved.db"
    db_file.rename(moved)
    db_file.mkdir()  # the path now cannot be opened
    assert post_ins(app.test_client(), notification()).status_code == 503
    db_file.rmdir()
    moved.rename(db_file)
    with app.app_context():
        db.engine.dispose()
    r = post_ins(app.test_client(), notification())
    assert r.status_code == 200 and r.text.strip() == "stored"


def test_database_of_this_run_dropped_answers_503(app_first, make_app, tmp_path):
    """On the PostgreSQL run: a database dropped under a running app; on SQLite: deleted."""
    from tests.conftest import BASE_URL, _is_postgres, create_postgres_database

    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
    else:
        path = tmp_path / "doomed.db"
        url = f"sqlite:///{path}"

        def drop() -> None:
            path.unlink()
            path.mkdir()
    app = make_app(database={"url": url})
    with app.app_context():
        db.create_all()
        from affsrv.clickbank.services import add_account
        add_account("myvendor", "MYSECRETKEY12345")
    assert post_ins(app.test_client(), notification()).status_code == 200
    with app.app_context():
        db.engine.dispose()
    drop()
    r = post_ins(app.test_client(), notification(receipt="NEXT"))
    assert r.status_code == 503


def test_schema_missing_a_table_answers_503_not_500(app_first, make_app, tmp_path):
    """E.g. a server started before `affsrv db upgrade`: nothing is stored, ClickBank retries."""
    from sqlalchemy import text

    from tests.conftest import BASE_URL, _is_postgres, create_postgres_database

    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
    else:
        url, drop = f"sqlite:///{tmp_path / 'partial.db'}", (lambda: None)
    app = make_app(database={"url": url})
    try:
        with app.app_context():
            db.create_all()
            from affsrv.clickbank.services import add_account
            add_account("myvendor", "MYSECRETKEY12345")
            db.session.execute(text("DROP TABLE ins_notifications"))
            db.session.commit()
        r = post_ins(app.test_client(), notification())
        assert r.status_code == 503
        with app.app_context():
            from affsrv.orders.models import Order
            assert db.session.query(Order).count() == 0
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()
