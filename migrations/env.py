"""Alembic environment, run through Flask-Migrate (`affsrv db upgrade`)."""

import contextlib
import fcntl
from collections.abc import Iterator

from alembic import context
from flask import current_app
from sqlalchemy import text

config = context.config
target_db = current_app.extensions["migrate"].db
engine = target_db.engine
# No logging.fileConfig here: it would silence affsrv's own loggers.
# PostgreSQL advisory lock key of schema migrations (any constant of affsrv's own).
MIGRATION_LOCK = 0x61666673_7276  # "affsrv"


def run_migrations_offline() -> None:
    context.configure(
        url=engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextlib.contextmanager
def _only_migrator_on_this_sqlite_file() -> Iterator[None]:
    """Servers started at once on a new SQLite database would each create the same tables
    (SQLite runs Alembic's DDL outside a transaction): they take turns through a lock file
    beside the database. Other databases are left alone here."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def run_migrations_online() -> None:
    # Flask-Migrate passes render_as_batch=True: SQLite cannot ALTER most things, so batch
    # mode rebuilds the table instead.
    conf_args = {"compare_type": True, **current_app.extensions["migrate"].configure_args}
    with _only_migrator_on_this_sqlite_file(), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch rebuild drops and re-creates a table; with foreign keys enforced, the
            # drop fails as soon as another table's rows refer to it. SQLite's own procedure
            # for such changes: enforcement off (only possible outside a transaction), then a
            # foreign_key_check of the result before it is committed.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **conf_args,
        )
        try:
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # The same on PostgreSQL (`affsrv serve` upgrades first): the later
                    # servers wait here until the first has committed, then find the schema
                    # current. Held until this transaction ends.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": MIGRATION_LOCK})
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left rows without their parent: {broken}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
