"""Alembic environment, run through Flask-Migrate (`affsrv db upgrade`)."""

from alembic import context
from flask import current_app

config = context.config
target_db = current_app.extensions["migrate"].db
engine = target_db.engine
# No logging.fileConfig here: it would silence affsrv's own loggers.


def run_migrations_offline() -> None:
    context.configure(
        url=engine.url.render_as_string(hide_password=False),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Flask-Migrate passes render_as_batch=True: SQLite cannot ALTER most things, so batch
    # mode rebuilds the table instead.
    conf_args = {"compare_type": True, **current_app.extensions["migrate"].configure_args}
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
