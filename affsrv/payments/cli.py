"""``affsrv payment add|list``."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from affsrv.affiliates.services import get_affiliate
from affsrv.cli.common import domain_errors, local_time, print_table
from affsrv.extensions import db
from affsrv.payments.models import Payment
from affsrv.payments.services import record_payment


@click.group("payment")
def group() -> None:
    """Payouts to affiliates."""


@group.command("add")
@click.option("--affiliate", "code", required=True, help="Affiliate code.")
@click.option("--method", required=True, help="e.g. PayPal, Stripe, 2Checkout.")
@click.option("--amount", required=True, help="Plain decimal, e.g. 24.66.")
@click.option("--reference", default="", help="Transfer id or note.")
@click.option("--currency", default=None,
              help="Three capital letters, e.g. EUR (default: commissions.currency). Settles "
                   "only commissions in this currency.")
@with_appcontext
@domain_errors
def add(code: str, method: str, amount: str, reference: str, currency: str | None) -> None:
    """Record a payout; the new id is the last line printed."""
    payment = record_payment(get_affiliate(code), method=method, amount=amount,
                             reference=reference, currency=currency)
    click.echo(f"payment of {payment.amount} {payment.currency} to {code} recorded; id:")
    click.echo(payment.id)


@group.command("list")
@click.option("--affiliate", "code", default=None, help="Only this affiliate's payments.")
@with_appcontext
@domain_errors
def list_(code: str | None) -> None:
    """List payments, newest first."""
    query = select(Payment).order_by(Payment.id.desc()).limit(500)
    if code:
        query = query.where(Payment.affiliate_id == get_affiliate(code).id)
    print_table(
        ["id", "affiliate", "method", "amount", "currency", "reference", "time"],
        [[p.id, p.affiliate_id, p.method, p.amount, p.currency, p.reference,
          local_time(p.created_at)] for p in db.session.scalars(query)],
    )
