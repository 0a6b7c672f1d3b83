"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from affsrv import create_app
from affsrv.extensions import db
from tests.conftest import BASE_URL, _is_postgres, create_postgres_database


def test_upgrade_from_empty_matches_the_models(tmp_path):
    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
    else:
        url, drop = f"sqlite:///{tmp_path / 'fresh.db'}", lambda: None
    try:
        app = create_app(overrides={"database": {"url": url},
                                    "logs": {"dir": str(tmp_path / "logs")}})
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            with db.engine.connect() as conn:
                diff = compare_metadata(
                    MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
                )
                tables = set(inspect(conn).get_table_names())
            db.engine.dispose()
        assert diff == []
        assert {"affiliates", "products", "clicks", "commissions", "payments",
                "api_keys", "orders", "order_line_items"} <= tables
    finally:
        drop()
