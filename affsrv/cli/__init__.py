"""The ``affsrv`` command: serve, database, and the merchant's day-to-day administration.

Each domain package with a ``cli`` module contributes its group (``affsrv affiliate ...``,
``affsrv product ...``); this module only assembles them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask.cli import FlaskGroup
from flask_migrate.cli import db as db_group
from sqlalchemy.exc import DBAPIError

from affsrv.app import DOMAINS, _domain_module
from affsrv.cli.serve import serve
from affsrv.db.errors import database_unusable
from affsrv.text import SURROGATE


def _create_app() -> Any:
    from affsrv.app import create_app
    from affsrv.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _set_config(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["AFFSRV_CONFIG"] = value


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False, set_debug_flag=False)
@click.option("--config", metavar="PATH", expose_value=False, is_eager=True,
              callback=_set_config, help="TOML configuration file (or set AFFSRV_CONFIG).")
def cli() -> None:
    """affsrv: a self-hosted affiliate tracking server."""


# FlaskGroup's --app/--env-file/--debug options do not apply to affsrv.
cli.params = [p for p in cli.params if p.name not in {"app", "env_file", "debug"}]
cli.add_command(serve)
cli.add_command(db_group)
for _domain in DOMAINS:
    _module = _domain_module(_domain, "cli")
    if _module is not None:
        cli.add_command(_module.group)
        # Top-level commands a domain adds besides its group (e.g. ``affsrv worker``).
        for _command in getattr(_module, "extra_commands", ()):
            cli.add_command(_command)


def _refuse_undecodable_arguments() -> None:
    """Stop, naming the argument, when one is not UTF-8: Python keeps such bytes as unpaired
    surrogates (a Latin-1 terminal's "Caf\xe9"), which no database can store as text."""
    for argument in sys.argv[1:]:
        if SURROGATE.search(argument):
            click.echo(f"Error: the argument {os.fsencode(argument)!r} is not UTF-8 text; set "
                       "your terminal to UTF-8 (for example LANG=C.UTF-8) and try again.",
                       err=True)
            sys.exit(2)


def main() -> None:
    _refuse_undecodable_arguments()
    try:
        cli.main(prog_name="affsrv")
    except DBAPIError as exc:
        if not database_unusable(exc):
            raise
        # Unreachable, or no schema yet (a command run before `affsrv db upgrade` or `serve`):
        # what the database said and what to check, not a traceback.
        click.echo(f"Error: database: {str(exc.orig).strip()}", err=True)
        click.echo("Check [database] url, that the database is up, and that its schema is "
                   "made (affsrv db upgrade).", err=True)
        sys.exit(1)
