"""``affsrv clerk-key add|list|add-site|remove-site|revoke``."""

import click
from flask.cli import with_appcontext

from affsrv.clerkkeys.services import (
    ROLES,
    add_clerk_key_sites,
    create_clerk_key,
    list_clerk_keys,
    remove_clerk_key_sites,
    revoke_clerk_key,
)
from affsrv.cli.common import ID, domain_errors, local_time, print_table

NO_SITE = "(none: refused until a site is added)"


@click.group("clerk-key")
def group() -> None:
    """Keys for the ClickBank-compatible REST API (/rest/1.3), each confined to its sites."""


@group.command("add")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role the key carries; repeat for several.")
@click.option("--site", "sites", multiple=True, required=True,
              help="A site (ClickBank account nickname) the key may use; repeat for several.")
@click.option("--label", default="", help="A note to tell keys apart.")
@with_appcontext
@domain_errors
def add(roles: tuple[str, ...], sites: tuple[str, ...], label: str) -> None:
    """Create a key; the Authorization header value is the last line printed, shown only once."""
    record, header = create_clerk_key(roles, label, sites=sites)
    click.echo(f"clerk key {record.id} created with roles {record.roles} for site(s) "
               f"{' '.join(sorted(record.sites))}; it is not stored in plain text, keep it "
               "now. Send it as the Authorization header (the API-... half alone also works):")
    click.echo(header)


@group.command("list")
@with_appcontext
def list_() -> None:
    """List keys (never the keys themselves) and the sites each may use."""
    print_table(
        ["id", "starts", "roles", "sites", "label", "created", "revoked"],
        [[k.id, "API-" + k.prefix + "...", k.roles, " ".join(sorted(k.sites)) or NO_SITE,
          k.label, local_time(k.created_at), local_time(k.revoked_at)]
         for k in list_clerk_keys()],
    )


@group.command("add-site")
@click.argument("key_id", type=ID)
@click.argument("sites", nargs=-1, required=True)
@with_appcontext
@domain_errors
def add_site(key_id: int, sites: tuple[str, ...]) -> None:
    """Let a key use these sites (ClickBank account nicknames) too."""
    record = add_clerk_key_sites(key_id, sites)
    click.echo(f"clerk key {key_id} sites: {' '.join(sorted(record.sites))}")


@group.command("remove-site")
@click.argument("key_id", type=ID)
@click.argument("sites", nargs=-1, required=True)
@with_appcontext
@domain_errors
def remove_site(key_id: int, sites: tuple[str, ...]) -> None:
    """Take sites from a key; a key with no site left is refused by every method."""
    record = remove_clerk_key_sites(key_id, sites)
    click.echo(f"clerk key {key_id} sites: {' '.join(sorted(record.sites)) or NO_SITE}")


@group.command("revoke")
@click.argument("key_id", type=ID)
@with_appcontext
@domain_errors
def revoke(key_id: int) -> None:
    """Revoke a key by its id."""
    revoke_clerk_key(key_id)
    click.echo(f"clerk key {key_id} revoked")
