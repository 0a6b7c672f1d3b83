"""``affsrv product add|list|disable|enable``."""


import click
from flask.cli import with_appcontext

from affsrv.cli.common import ID, domain_errors, print_table
from affsrv.products import services


@click.group("product")
def group() -> None:
    """The product catalogue."""


@group.command("add")
@click.option("--name", required=True)
@click.option("--url", required=True, help="Landing page the affiliate link redirects to.")
@click.option("--sku", default=None, help="SKU (item number) for ClickBank-style APIs.")
@click.option("--rate", "commission_rate", default=None,
              help="Default commission percentage for the product.")
@with_appcontext
@domain_errors
def add(name: str, url: str, sku: str | None, commission_rate: str | None) -> None:
    """Add a product; the new id is the last line printed."""
    product = services.create_product(name=name, url=url, sku=sku,
                                      commission_rate=commission_rate)
    click.echo(f"product {product.name!r} added; id:")
    click.echo(product.id)


@group.command("list")
@with_appcontext
def list_() -> None:
    """List products."""
    print_table(
        ["id", "sku", "name", "landing url", "rate", "enabled", "created by"],
        [[p.id, p.sku or "", p.name, p.landing_url,
          "" if p.commission_rate is None else f"{p.commission_rate.normalize():f}%",
          "yes" if p.enabled else "no", p.created_by or "merchant"]
         for p in services.list_products()],
    )


@group.command("disable")
@click.argument("product_id", type=ID)
@with_appcontext
@domain_errors
def disable(product_id: int) -> None:
    """Disable a product: commissions sent for it are refused."""
    services.set_enabled(product_id, False)
    click.echo(f"product {product_id} disabled")


@group.command("enable")
@click.argument("product_id", type=ID)
@with_appcontext
@domain_errors
def enable(product_id: int) -> None:
    """Enable a product again."""
    services.set_enabled(product_id, True)
    click.echo(f"product {product_id} enabled")
