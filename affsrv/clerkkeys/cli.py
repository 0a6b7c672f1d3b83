"""``affsrv clerk-key add|list|revoke``."""

import click
from flask.cli import with_appcontext

from affsrv.clerkkeys.services import ROLES, create_clerk_key, list_clerk_keys, revoke_clerk_key
from affsrv.cli.common import ID, domain_errors, local_time, print_table


@click.group("clerk-key")
def group() -> None:
    """Keys for the ClickBank-compatible REST API (/rest/1.3)."""


@group.command("add")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role the key carries; repeat for several.")
@click.option("--label", default="", help="A note to tell keys apart.")
@with_appcontext
@domain_errors
def add(roles: tuple[str, ...], label: str) -> None:
    """Create a key; the Authorization header value is the last line printed, shown only once."""
    record, header = create_clerk_key(roles, label)
    click.echo(f"clerk key {record.id} created with roles {record.roles}; it is not stored in "
               "plain text, keep it now. Send it as the Authorization header (the API-... half "
               "alone also works):")
    click.echo(header)


@group.command("list")
@with_appcontext
def list_() -> None:
    """List keys (never the keys themselves)."""
    print_table(
        ["id", "starts", "roles", "label", "created", "revoked"],
        [[k.id, "API-" + k.prefix + "...", k.roles, k.label, local_time(k.created_at),
          local_time(k.revoked_at)] for k in list_clerk_keys()],
    )


@group.command("revoke")
@click.argument("key_id", type=ID)
@with_appcontext
@domain_errors
def revoke(key_id: int) -> None:
    """Revoke a key by its id."""
    revoke_clerk_key(key_id)
    click.echo(f"clerk key {key_id} revoked")
