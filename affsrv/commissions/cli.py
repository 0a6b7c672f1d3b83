"""``affsrv commission list|approve|reject``."""

import click
from flask.cli import with_appcontext

from affsrv.cli.common import BIG_ID, domain_errors, local_time, print_table
from affsrv.commissions.models import CommissionStatus
from affsrv.commissions.services import list_commissions, set_status


@click.group("commission")
def group() -> None:
    """Commissions: review and approval."""


@group.command("list")
@click.option("--status", type=click.Choice([s.value for s in CommissionStatus]),
              default=None)
@click.option("--limit", type=click.IntRange(1, 100000), default=100)
@with_appcontext
def list_(status: str | None, limit: int) -> None:
    """List the newest commissions."""
    print_table(
        ["id", "affiliate", "product", "sale", "commission", "currency", "status", "ref",
         "time"],
        [[c.id, c.affiliate_id, c.product_id, c.sale_total, c.commission_total, c.currency,
          c.status + (" (paid)" if c.payment_id else ""), c.order_ref or "",
          local_time(c.created_at)] for c in list_commissions(status, limit)],
    )


def _change(ids: tuple[int, ...], all_pending: bool, status: CommissionStatus) -> None:
    if bool(ids) == all_pending:
        raise click.UsageError("give commission ids, or --all for every pending one")
    changed = set_status(None if all_pending else list(ids), status)
    click.echo(f"{changed} commission(s) {status.value}")


@group.command("approve")
@click.argument("ids", nargs=-1, type=BIG_ID)
@click.option("--all", "all_pending", is_flag=True, help="Every pending commission.")
@with_appcontext
@domain_errors
def approve(ids: tuple[int, ...], all_pending: bool) -> None:
    """Approve pending commissions so they count in totals."""
    _change(ids, all_pending, CommissionStatus.APPROVED)


@group.command("reject")
@click.argument("ids", nargs=-1, type=BIG_ID)
@click.option("--all", "all_pending", is_flag=True, help="Every pending commission.")
@with_appcontext
@domain_errors
def reject(ids: tuple[int, ...], all_pending: bool) -> None:
    """Reject pending commissions."""
    _change(ids, all_pending, CommissionStatus.REJECTED)
