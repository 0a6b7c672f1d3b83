"""``record_ship_notice``: which order of a receipt a notice marks, and its refusals."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.shipping.models import ShipNotice
from affsrv.shipping.services import record_ship_notice, ship_notices_for
from tests.restapi.conftest import T0, add_orders

DAY = date(2024, 3, 2)
SITES = {"myshop"}  # the account of the orders add_orders makes


def _notice(**fields):
    return record_ship_notice("RCPT0000000", ship_date=DAY, carrier="UPS", accounts=SITES,
                              **fields)


def test_a_notice_marks_the_oldest_unshipped_transaction_of_the_receipt(app, ctx):
    sale, rebill = add_orders(app, 1) + add_orders(app, 1, transaction_type="BILL",
                                                     start=T0 + timedelta(days=30))
    (first,) = _notice(tracking="1")
    (second,) = _notice(tracking="2")
    assert (first.order_id, second.order_id) == (sale, rebill)
    (third,) = _notice(tracking="3")
    assert third.order_id == rebill  # all shipped: a further notice goes to the latest
    assert [n.tracking for n in ship_notices_for("RCPT0000000", SITES)] == ["1", "2", "3"]


def test_the_same_notice_twice_is_stored_once(app, ctx):
    add_orders(app, 1)
    for _ in range(2):
        record_ship_notice("RCPT0000000", ship_date=DAY, carrier="UPS", tracking="1",
                           accounts=SITES)
    assert len(list(db.session.scalars(select(ShipNotice)))) == 1


def test_fill_order_records_one_notice_per_physical_item(app, ctx):
    add_orders(app, 1, items=[{"item_no": "A"}, {"item_no": "B"},
                              {"item_no": "EBOOK", "shippable": False}])
    with pytest.raises(DomainError, match="several physical items"):
        record_ship_notice("RCPT0000000", ship_date=DAY, carrier="UPS", tracking="1",
                           accounts=SITES)
    made = record_ship_notice("RCPT0000000", ship_date=DAY, carrier="UPS", tracking="1",
                              fill_order=True, accounts=SITES)
    assert sorted(n.item_no for n in made) == ["A", "B"]


def test_refusals(app, ctx):
    add_orders(app, 1, shippable=False, shipping_address1="", shipping_full_name="")
    with pytest.raises(NotFound):
        record_ship_notice("RCPT0000000", ship_date=DAY, carrier="UPS", tracking="1",
                           accounts=SITES)
    with pytest.raises(NotFound):
        record_ship_notice("NOPE", ship_date=DAY, carrier="UPS", tracking="1", accounts=SITES)
