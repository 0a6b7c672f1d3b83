"""``affsrv account add|list|remove``: the ClickBank accounts whose notifications arrive."""

import click
from flask.cli import with_appcontext

from affsrv.cli.common import domain_errors, local_time, print_table
from affsrv.clickbank import services


@click.group("account")
def group() -> None:
    """ClickBank accounts (nicknames) sending Instant Notifications to /ins/clickbank/NAME."""


@group.command("add")
@click.option("--nickname", required=True, help="The ClickBank account nickname.")
@click.option("--secret-key", required=True,
              help="The account's secret key (ClickBank: My Site > Advanced Tools).")
@with_appcontext
@domain_errors
def add(nickname: str, secret_key: str) -> None:
    """Add an account; prints the URL path to give ClickBank."""
    account = services.add_account(nickname, secret_key)
    click.echo(f"account {account.nickname} added; Instant Notification URL path:")
    click.echo(f"/ins/clickbank/{account.nickname}")


@group.command("list")
@with_appcontext
def list_() -> None:
    """List accounts (secret keys are not shown)."""
    print_table(
        ["id", "nickname", "url path", "added"],
        [[a.id, a.nickname, f"/ins/clickbank/{a.nickname}", local_time(a.created_at)]
         for a in services.list_accounts()],
    )


@group.command("remove")
@click.argument("nickname")
@with_appcontext
@domain_errors
def remove(nickname: str) -> None:
    """Remove an account: its notifications are refused from now on (stored ones stay)."""
    services.remove_account(nickname)
    click.echo(f"account {nickname} removed")
