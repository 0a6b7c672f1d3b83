"""``affsrv serve``: upgrade the schema, make a first API key, run gunicorn."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from gunicorn.app.base import BaseApplication

from affsrv.apikeys.services import ensure_api_key


class _Gunicorn(BaseApplication):
    """Gunicorn with affsrv's app; each worker builds its own app (no shared connections)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from affsrv.app import create_app

        return create_app()


def gunicorn_options(bind: str, workers: int) -> dict[str, Any]:
    """The gunicorn settings of ``affsrv serve`` (the benchmark runs its bare app with them)."""
    return {
        "bind": bind,
        "workers": workers,
        "worker_class": "sync",
        "accesslog": None,
        "errorlog": "-",
        "graceful_timeout": 10,
        "timeout": 30,
    }


def prepare_database() -> str | None:
    """Create or upgrade the schema; a first API key's plain text when one was made."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    return ensure_api_key()


@click.command()
@click.option("--bind", default=None, help="host:port (default: [server] bind).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: [server] workers).")
@with_appcontext
def serve(bind: str | None, workers: int | None) -> None:
    """Run affsrv under gunicorn."""
    server = current_app.config["AFFSRV"]["server"]
    new_key = prepare_database()
    if new_key:
        click.echo("A first API key was created. It is shown only this once; keep it:")
        click.echo(new_key)
    options = gunicorn_options(bind or server["bind"], workers or server["workers"])
    click.echo(f"affsrv listening on http://{options['bind']} ({options['workers']} workers)")
    _Gunicorn(options).run()
