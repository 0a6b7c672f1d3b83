"""``affsrv orders refresh``."""

import click
from flask.cli import with_appcontext

from affsrv.orders.services import refold_search_copies
from affsrv.shipping.services import refresh_physical


@click.group("orders")
def group() -> None:
    """Stored orders (from ClickBank notifications)."""


@group.command("refresh")
@with_appcontext
def refresh() -> None:
    """Recompute what affsrv derives from each order, after orders were loaded into the
    database by other means: whether it is physical, and the folded copies that the REST
    API's caseless filters (lastName, email, ...) search."""
    click.echo(f"{refresh_physical()} order(s) updated: physical")
    click.echo(f"{refold_search_copies()} order(s) updated: search copies")
