"""``affsrv product add|list|edit|disable|enable``."""


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
        ["id", "sku", "site", "name", "landing url", "rate", "enabled", "created by"],
        [[p.id, p.sku or "", p.site or "", p.name, p.landing_url,
          "" if p.commission_rate is None else f"{p.commission_rate.normalize():f}%",
          "yes" if p.enabled else "no", p.created_by or "merchant"]
         for p in services.list_products()],
    )


@group.command("edit")
@click.argument("product_id", type=ID)
@click.option("--site", default=None,
              help="Give the product to this site (ClickBank account nickname): that site's "
                   "clerk keys may then read and change it through the REST API.")
@click.option("--no-site", is_flag=True,
              help="Take the product back from the REST API (no site's key reaches it).")
@with_appcontext
@domain_errors
def edit(product_id: int, site: str | None, no_site: bool) -> None:
    """Change which site's REST API keys may reach a product."""
    if (site is None) == (not no_site):
        raise click.UsageError("give --site NAME or --no-site")
    product = services.assign_site(product_id, None if no_site else site)
    shown = product.site or "(none: not reachable by the REST API)"
    click.echo(f"product {product_id} site: {shown}")


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
