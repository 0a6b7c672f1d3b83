"""``affsrv account add|list|set|remove``: the ClickBank accounts whose notifications
arrive."""

import click
from flask.cli import with_appcontext

from affsrv.cli.common import domain_errors, local_time, print_table
from affsrv.clickbank import services

LEGACY_HELP = ("Accept legacy (version 4.0 and older) form posts, proved only by an 8-character "
               "cverify (32 bits: guessable). Leave off unless ClickBank still sends them.")


@click.group("account")
def group() -> None:
    """ClickBank accounts (nicknames) sending Instant Notifications to /ins/clickbank/NAME."""


@group.command("add")
@click.option("--nickname", required=True, help="The ClickBank account nickname.")
@click.option("--secret-key", required=True,
              help="The account's secret key (ClickBank: My Site > Advanced Tools).")
@click.option("--legacy-cverify/--no-legacy-cverify", default=False, show_default=True,
              help=LEGACY_HELP)
@with_appcontext
@domain_errors
def add(nickname: str, secret_key: str, legacy_cverify: bool) -> None:
    """Add an account; prints the URL path to give ClickBank."""
    account = services.add_account(nickname, secret_key, legacy_cverify=legacy_cverify)
    click.echo(f"account {account.nickname} added; Instant Notification URL path:")
    click.echo(f"/ins/clickbank/{account.nickname}")


@group.command("set")
@click.argument("nickname")
@click.option("--legacy-cverify/--no-legacy-cverify", required=True, help=LEGACY_HELP)
@with_appcontext
@domain_errors
def set_(nickname: str, legacy_cverify: bool) -> None:
    """Change an account's settings."""
    account = services.set_legacy_cverify(nickname, legacy_cverify)
    state = "accepted" if account.legacy_cverify else "refused"
    click.echo(f"account {account.nickname}: legacy cverify posts {state}")


@group.command("list")
@with_appcontext
def list_() -> None:
    """List accounts (secret keys are not shown)."""
    print_table(
        ["id", "nickname", "url path", "legacy cverify", "added"],
        [[a.id, a.nickname, f"/ins/clickbank/{a.nickname}", "on" if a.legacy_cverify else "off",
          local_time(a.created_at)]
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
