"""``affsrv user add|link|list``: the merchant's users of the dashboard."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from affsrv.cli.common import domain_errors, local_time, print_table
from affsrv.users import services
from affsrv.users.models import MerchantUser, Role
from affsrv.web.views import public_url


@click.group("user")
def group() -> None:
    """Merchant users of the dashboard (/admin)."""


def _print_link(user: MerchantUser) -> None:
    token = services.issue_signin_token(user)
    click.echo(f"One-time sign-in link for {user.email} (it works once, and expires in "
               "[web] signin_link_hours):")
    click.echo(public_url(f"/login/link/{token}"))


@group.command("add")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.OWNER.value,
              show_default=True, help="staff cannot manage API keys.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (one line) instead of printing a "
                   "one-time sign-in link.")
@with_appcontext
@domain_errors
def add(email: str, role: str, password_stdin: bool) -> None:
    """Add a merchant user; prints a one-time sign-in link unless --password-stdin."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password is not None:
        services.check_password_rules(password)  # refuse before anything is written
    user = services.add_user(email, role, password)
    click.echo(f"merchant user {user.id} added ({user.role}): {user.email}")
    if password is None:
        _print_link(user)


@group.command("link")
@click.option("--email", required=True)
@with_appcontext
@domain_errors
def link(email: str) -> None:
    """Print a new one-time sign-in link for a user (who forgot the password, say)."""
    _print_link(services.get_user_by_email(email))


@group.command("list")
@with_appcontext
def list_() -> None:
    """List merchant users."""
    print_table(
        ["id", "email", "role", "password", "last sign-in"],
        [[u.id, u.email, u.role, "set" if u.password_hash else "not yet",
          local_time(u.last_signin_at)] for u in services.list_users()],
    )
