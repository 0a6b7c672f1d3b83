"""``affsrv notify add|list|remove|log|retry|prune`` and ``affsrv worker``."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from affsrv.cli.common import BIG_ID, ID, domain_errors, local_time, print_table
from affsrv.config import INT_RANGES
from affsrv.notifications import services
from affsrv.notifications.models import OutboxStatus


@click.group("notify")
def group() -> None:
    """Instant notifications affsrv sends (ClickBank 6.0 format) and their delivery log."""


@group.command("add")
@click.option("--url", required=True, help="The receiver's http(s) URL.")
@click.option("--secret-key", default=None,
              help="Key the receiver decrypts with (letters and digits; default: generated).")
@click.option("--affiliate", "affiliate_code", default=None,
              help="Only this affiliate's transactions (role AFFILIATE).")
@click.option("--product", "product_id", type=ID, default=None,
              help="Only transactions of this product id.")
@with_appcontext
@domain_errors
def add(url: str, secret_key: str | None, affiliate_code: str | None,
        product_id: int | None) -> None:
    """Add a receiver; prints its id and (when generated) its secret key."""
    subscription, key = services.add_subscription(url, secret_key, affiliate_code, product_id)
    click.echo(f"subscription {subscription.id} added for {url}")
    if secret_key is None:
        click.echo("secret key (give it to the receiver; it is not shown again):")
        click.echo(key)


@group.command("list")
@click.option("--removed", is_flag=True, help="Also receivers removed with `notify remove`.")
@with_appcontext
def list_(removed: bool) -> None:
    """List receivers (keys are not shown)."""
    print_table(
        ["id", "url", "affiliate", "product", "enabled", "added", "removed"],
        [[s.id, s.url, s.affiliate_id or "all", s.product_id or "all",
          "yes" if s.enabled else "no", local_time(s.created_at), local_time(s.removed_at)]
         for s in services.list_subscriptions(include_removed=removed)],
    )


@group.command("remove")
@click.argument("subscription_id", type=ID)
@with_appcontext
@domain_errors
def remove(subscription_id: int) -> None:
    """Stop sending to a receiver. Its delivery history stays in `notify log`; notifications
    still waiting for it are marked failed."""
    services.remove_subscription(subscription_id)
    click.echo(f"subscription {subscription_id} removed")


@group.command("log")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), default=None,
              help="Only messages with this status (e.g. failed).")
@click.option("--subscription", "subscription_id", type=ID, default=None,
              help="Only notifications to this receiver (removed ones too).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50)
@with_appcontext
def log(status: str | None, subscription_id: int | None, limit: int) -> None:
    """Notifications and e-mails, newest first: status, tries, next try, last error."""
    print_table(
        ["id", "kind", "to", "what", "status", "tries", "next try", "delivered", "last error"],
        [[m.id, m.kind, f"subscription {m.subscription_id}" if m.subscription_id
          else (m.payload or {}).get("to", "-"), m.summary, m.status, m.attempts,
          local_time(m.next_attempt_at) if m.status == OutboxStatus.PENDING else "-",
          local_time(m.delivered_at), (m.last_error or "")[:120]]
         for m in services.outbox_log(status, limit, subscription_id)],
    )


@group.command("prune")
@click.option("--days", type=click.IntRange(1, INT_RANGES["notifications.keep_days"][1]),
              default=None,
              help="Delete delivered and failed messages older than this many days "
                   "(default: [notifications] keep_days).")
@with_appcontext
def prune(days: int | None) -> None:
    """Delete old delivered and failed messages now (the worker also does it hourly)."""
    days = days or current_app.config["AFFSRV"]["notifications"]["keep_days"]
    if not days:
        raise click.UsageError("keep_days = 0 keeps every message: pass --days N")
    count = services.prune_outbox(timedelta(days=days))
    click.echo(f"{count} message{'' if count == 1 else 's'} deleted "
               f"(delivered or failed, older than {days} days)")


@group.command("retry")
@click.argument("ids", nargs=-1, type=BIG_ID)
@click.option("--all", "all_failed", is_flag=True, help="Every failed message.")
@with_appcontext
def retry(ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed messages again (with a fresh number of tries)."""
    if bool(ids) == all_failed:
        raise click.UsageError("give message ids, or --all for every failed one")
    changed = services.retry_failed(None if all_failed else ids)
    click.echo(f"{changed} message(s) queued again")


@click.command("worker")
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=None,
              help="Seconds between looks when idle (default: [notifications] "
                   "worker_poll_seconds).")
@with_appcontext
def worker(poll: float | None) -> None:
    """Deliver instant notifications and e-mails until stopped (SIGTERM or Ctrl-C)."""
    from affsrv.notifications.worker import run_worker

    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo("affsrv worker delivering notifications and e-mails")
    run_worker(app, stop, poll_seconds=poll)
    click.echo("affsrv worker stopped")


extra_commands = [worker]
