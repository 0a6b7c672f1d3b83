"""``affsrv shipping refresh``."""

import click
from flask.cli import with_appcontext

from affsrv.shipping.services import refresh_physical


@click.group("shipping")
def group() -> None:
    """Physical orders and their ship notices."""


@group.command("refresh")
@with_appcontext
def refresh() -> None:
    """Recompute which orders are physical (after orders were bulk-loaded without it)."""
    click.echo(f"{refresh_physical()} order(s) updated")
