"""``Order.physical``: kept right on every ORM flush, whoever writes the orders."""

from datetime import UTC, datetime

import pytest

from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem

WHEN = datetime(2024, 3, 1, tzinfo=UTC)


def _order(**fields):
    return Order(receipt="R1", transaction_type=fields.pop("transaction_type", "SALE"),
                 transaction_time=WHEN, **fields)


@pytest.mark.parametrize(("source", "kind", "item", "address", "physical"), [
    ("clickbank", "SALE", True, "", True),
    ("clickbank", "BILL", True, "", True),
    ("clickbank", "TEST_SALE", True, "", True),
    # ClickBank sends a shipping contact on digital orders: its item flags decide.
    ("clickbank", "SALE", False, "1 Main St", False),
    ("clickbank", "SALE", None, "1 Main St", True),  # no line items: the address decides
    ("shop", "SALE", False, "1 Main St", True),  # a source that does not flag items
    ("shop", "SALE", False, "", False),
    ("clickbank", "RFND", True, "1 Main St", False),
    ("clickbank", "CGBK", True, "", False),
])
def test_physical_on_insert(ctx, source, kind, item, address, physical):
    order = _order(source=source, transaction_type=kind, shipping_address1=address)
    if item is not None:
        order.line_items.append(OrderLineItem(item_no="A", shippable=item))
    db.session.add(order)
    db.session.commit()
    assert order.physical is physical


def test_physical_follows_later_changes(ctx):
    order = _order()
    db.session.add(order)
    db.session.commit()
    assert order.physical is False
    order.line_items.append(OrderLineItem(item_no="A", shippable=True))
    db.session.commit()
    assert order.physical is True
    order.transaction_type = "RFND"
    db.session.commit()
    assert order.physical is False


def test_the_sql_refresh_agrees_with_the_python_rule_and_repairs_bulk_loads(app, ctx):
    from sqlalchemy import insert, select

    from affsrv.cli import cli
    from affsrv.shipping.services import refresh_physical

    cases = [("clickbank", "SALE", True, ""), ("clickbank", "SALE", False, "1 Main St"),
             ("clickbank", "SALE", None, "1 Main St"), ("shop", "SALE", False, "1 Main St"),
             ("shop", "BILL", None, ""), ("clickbank", "RFND", True, "x")]
    for n, (source, kind, item, address) in enumerate(cases):
        order = Order(receipt=f"R{n}", source=source, transaction_type=kind,
                      transaction_time=WHEN, shipping_address1=address)
        if item is not None:
            order.line_items.append(OrderLineItem(item_no="A", shippable=item))
        db.session.add(order)
    db.session.commit()
    assert refresh_physical() == 0  # the ORM rule and the SQL rule agree
    db.session.execute(insert(Order), [{"receipt": "BULK", "source": "shop",
                                        "transaction_type": "SALE", "transaction_time": WHEN,
                                        "shipping_address1": "1 Main St"}])
    db.session.commit()
    result = app.test_cli_runner().invoke(cli, ["shipping", "refresh"])
    assert result.exit_code == 0 and "1 order(s) updated" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(Order.physical).where(Order.receipt == "BULK")) is True
