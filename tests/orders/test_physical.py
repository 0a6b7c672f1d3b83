"""``Order.physical``: kept right on every ORM flush, whoever writes the orders."""

from datetime import UTC, datetime

import pytest

from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem

WHEN = datetime(2024, 3, 1, tzinfo=UTC)


def _order(**fields):
    return Order(receipt="R1", transaction_type=fields.pop("transaction_type", "SALE"),
                 transaction_time=WHEN, **fields)


@pytest.mark.parametrize(("kind", "item", "address", "physical"), [
    ("SALE", True, "", True),
    ("BILL", True, "", True),
    ("TEST_SALE", True, "", True),
    ("SALE", False, "1 Main St", True),  # no line item flag, but a shipping address
    ("SALE", False, "", False),
    ("RFND", True, "1 Main St", False),
    ("CGBK", True, "", False),
])
def test_physical_on_insert(ctx, kind, item, address, physical):
    order = _order(transaction_type=kind, shipping_address1=address)
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
