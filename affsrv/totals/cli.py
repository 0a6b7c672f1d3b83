"""``affsrv totals recount|check``."""

from typing import Any

import click
from flask.cli import with_appcontext

from affsrv.extensions import db
from affsrv.totals.services import KEPT_TOTALS, differences, recount


@click.group("totals")
def group() -> None:
    """The kept totals the Data API answers (commissions, payments, clicks)."""


@group.command("recount")
@with_appcontext
def recount_() -> None:
    """Rebuild every kept total from its rows (commission_totals, payment_totals and
    click_counts), in one transaction: after rows were changed, deleted or loaded with SQL.
    Run it while nothing is written (affsrv stopped)."""
    with db.engine.begin() as connection:
        written = [(kept.name, recount(connection, kept)) for kept in KEPT_TOTALS]
    for name, rows in written:
        click.echo(f"{name}: {rows} row(s) written")


@group.command("check")
@with_appcontext
def check() -> None:
    """Compare every kept total with the sum of its rows, changing nothing; exits 1 naming
    each differing key when one differs."""
    with db.engine.connect() as connection:
        found = [d for kept in KEPT_TOTALS for d in differences(connection, kept)]
    for difference in found:
        key = " ".join(f"{name}={value}" for name, value in difference.key.items())
        kept, computed = (_shown(values, difference.key)
                          for values in (difference.kept, difference.computed))
        click.echo(f"{difference.table} {key}: kept {kept}, the rows give {computed}")
    if found:
        raise SystemExit(1)
    click.echo("every kept total equals the sum of its rows")


def _shown(values: dict[str, Any] | None, key: dict[str, Any]) -> str:
    if values is None:
        return "nothing"
    return ", ".join(f"{name}={value}" for name, value in values.items() if name not in key)
