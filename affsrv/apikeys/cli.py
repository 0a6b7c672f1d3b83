"""``affsrv apikey create|list|revoke``."""

import click
from flask.cli import with_appcontext

from affsrv.apikeys.services import create_api_key, list_api_keys, revoke_api_key
from affsrv.cli.common import ID, domain_errors, local_time, print_table


@click.group("apikey")
def group() -> None:
    """API keys for the JSON API (/api)."""


@group.command("create")
@click.option("--label", default="", help="A note to tell keys apart.")
@with_appcontext
@domain_errors
def create(label: str) -> None:
    """Create a key; the key is the last line printed, shown only this once."""
    record, plain = create_api_key(label)
    click.echo(f"API key {record.id} created; it is not stored in plain text, keep it now:")
    click.echo(plain)


@group.command("list")
@with_appcontext
def list_() -> None:
    """List keys (never the keys themselves)."""
    print_table(
        ["id", "starts", "label", "created", "revoked"],
        [[k.id, k.prefix + "...", k.label, local_time(k.created_at), local_time(k.revoked_at)]
         for k in list_api_keys()],
    )


@group.command("revoke")
@click.argument("key_id", type=ID)
@with_appcontext
@domain_errors
def revoke(key_id: int) -> None:
    """Revoke a key by its id."""
    revoke_api_key(key_id)
    click.echo(f"API key {key_id} revoked")
