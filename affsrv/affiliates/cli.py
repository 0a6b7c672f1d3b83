"""``affsrv affiliate add|list|approve|disable|enable|alias``."""


import click
from flask.cli import with_appcontext

from affsrv.affiliates import services
from affsrv.cli.common import domain_errors, local_time, print_table


@click.group("affiliate")
def group() -> None:
    """Affiliate accounts."""


@group.command("add")
@click.option("--email", required=True)
@click.option("--fname", required=True, help="First name.")
@click.option("--lname", required=True, help="Last name.")
@click.option("--commtier", default=None,
              help="Own commission percentage, e.g. 17.5 (overrides amounts shops send).")
@click.option("--code", default=None, help="Affiliate code (default: the new id).")
@click.option("--ip", default=None, help="The affiliate's own IP (for self-referral checks).")
@click.option("--pending", is_flag=True, help="Add unapproved.")
@with_appcontext
@domain_errors
def add(email: str, fname: str, lname: str, commtier: str | None, code: str | None,
        ip: str | None, pending: bool) -> None:
    """Add an affiliate; the new code is the last line printed."""
    affiliate = services.create_affiliate(
        email=email, fname=fname, lname=lname, commtier=commtier, code=code, ip=ip,
        pending=pending,
    )
    state = "approved" if affiliate.approved else "pending approval"
    click.echo(f"affiliate {affiliate.id} added ({state}); code:")
    click.echo(affiliate.code)


@group.command("list")
@with_appcontext
def list_() -> None:
    """List affiliates."""
    print_table(
        ["id", "code", "name", "email", "commtier", "approved", "enabled", "created"],
        [[a.id, a.code, f"{a.fname} {a.lname}", a.email,
          "" if a.commtier is None else f"{a.commtier.normalize():f}%",
          "yes" if a.approved else "no", "yes" if a.enabled else "no",
          local_time(a.created_at)] for a in services.list_affiliates()],
    )


@group.command("approve")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
@domain_errors
def approve(codes: tuple[str, ...]) -> None:
    """Approve affiliates by code."""
    for code in codes:
        services.set_approved(code, True)
        click.echo(f"affiliate {code} approved")


@group.command("disable")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
@domain_errors
def disable(codes: tuple[str, ...]) -> None:
    """Disable affiliates: their links stop counting and the API refuses them."""
    for code in codes:
        services.set_enabled(code, False)
        click.echo(f"affiliate {code} disabled")


@group.command("enable")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
@domain_errors
def enable(codes: tuple[str, ...]) -> None:
    """Enable affiliates again."""
    for code in codes:
        services.set_enabled(code, True)
        click.echo(f"affiliate {code} enabled")


@group.command("alias")
@click.argument("code")
@click.option("--clickbank", "nickname", required=True,
              help="The affiliate's ClickBank nickname ('' removes the alias).")
@with_appcontext
@domain_errors
def alias(code: str, nickname: str) -> None:
    """Credit ClickBank notifications naming NICK as the affiliate to affiliate CODE."""
    affiliate = services.set_clickbank_nickname(code, nickname)
    if affiliate.clickbank_nickname:
        click.echo(f"affiliate {code} is ClickBank affiliate {affiliate.clickbank_nickname}")
    else:
        click.echo(f"affiliate {code} has no ClickBank nickname")
