"""``affsrv account add|list|set|remove``: the ClickBank accounts whose notifications arrive;
``affsrv clickbank reapply``: the commission rules again for orders whose products came later."""

from datetime import UTC, datetime, timedelta

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
@click.option("--legacy-cverify/--no-legacy-cverify", default=None, help=LEGACY_HELP)
@click.option("--unknown-skus", type=click.Choice(["create", "refuse"]), default=None,
              help="A sale naming a SKU no product has: create the product and credit the "
                   "commission (create, the default), or store the order only (refuse).")
@with_appcontext
@domain_errors
def set_(nickname: str, legacy_cverify: bool | None, unknown_skus: str | None) -> None:
    """Change an account's settings (name at least one)."""
    if legacy_cverify is None and unknown_skus is None:
        raise click.UsageError("name a setting: --legacy-cverify, --no-legacy-cverify or "
                               "--unknown-skus create|refuse")
    if legacy_cverify is not None:
        account = services.set_legacy_cverify(nickname, legacy_cverify)
        state = "accepted" if account.legacy_cverify else "refused"
        click.echo(f"account {account.nickname}: legacy cverify posts {state}")
    if unknown_skus is not None:
        account = services.set_refuse_unknown_skus(nickname, unknown_skus == "refuse")
        click.echo(f"account {account.nickname}: unknown SKUs "
                   + ("refused (order stored, no commission)" if account.refuse_unknown_skus
                      else "create their product"))


@group.command("list")
@with_appcontext
def list_() -> None:
    """List accounts (secret keys are not shown)."""
    print_table(
        ["id", "nickname", "url path", "legacy cverify", "unknown SKUs", "added"],
        [[a.id, a.nickname, f"/ins/clickbank/{a.nickname}", "on" if a.legacy_cverify else "off",
          "refused" if a.refuse_unknown_skus else "create product", local_time(a.created_at)]
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


@click.group("clickbank")
def clickbank_group() -> None:
    """ClickBank orders already stored."""


@clickbank_group.command("reapply")
@click.option("--receipt", default=None, help="Only this receipt's orders.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Orders of this day (UTC) and later.")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Orders up to this day (UTC), inclusive.")
@with_appcontext
@domain_errors
def reapply(receipt: str | None, start: datetime | None, end: datetime | None) -> None:
    """Credit the commissions of stored orders whose SKU had no product when they arrived and
    has one now. Running it again credits nothing twice."""
    if receipt is None and start is None and end is None:
        raise click.UsageError("name --receipt, or a date range with --from and/or --to")
    if start and end and end < start:
        raise click.UsageError("--to is before --from")
    done = services.reapply_commissions(
        receipt=receipt,
        start=start.replace(tzinfo=UTC) if start else None,
        end=end.replace(tzinfo=UTC) + timedelta(days=1) if end else None,
    )
    click.echo(f"{done.items} line items of {done.orders} orders found their product; "
               f"{done.commissions} commissions recorded")


extra_commands = (clickbank_group,)
