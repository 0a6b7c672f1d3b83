"""``affsrv clicks recount``."""

import click
from flask.cli import with_appcontext

from affsrv.extensions import db
from affsrv.tracking.services import recount_clicks


@click.group("clicks")
def group() -> None:
    """Landing clicks and their counts."""


@group.command("recount")
@with_appcontext
def recount() -> None:
    """Count the clicks again for the referrals op (click_counts), after clicks were deleted
    or loaded with SQL. Run it while no clicks arrive (affsrv stopped)."""
    with db.engine.begin() as connection:
        rows = recount_clicks(connection)
    click.echo(f"{rows} click count(s) written")
