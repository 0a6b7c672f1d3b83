"""``[commissions] max_saletotal`` holds for ClickBank as for the JSON API: a notification
over it is stored (ClickBank made the sale) but credits no commission, and says so in
commission.log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.orders.models import Order
from tests.clickbank.support import add_cb_account, notification, post_ins
from tests.helpers import add_affiliate, add_product, api, log_records


@pytest.fixture
def cb(make_app):
    def build(**commissions):
        app = make_app(commissions={"require_approval": False, **commissions},
                       mail={"enabled": False})
        add_cb_account(app)
        add_affiliate(app, code="annie")
        add_product(app, sku="WIDGET-1", commission_rate=Decimal("17.5"))
        return app
    return build


def _sale(price, total=None, receipt="CAP1"):
    doc = notification(affiliate="annie", receipt=receipt,
                       totalOrderAmount=total if total is not None else price)
    doc["lineItems"][0].update(productPrice=price, accountAmount=price, affiliatePayout=price)
    return doc


def _commissions(app):
    with app.app_context():
        return list(db.session.scalars(select(Commission).order_by(Commission.id)))


def _orders(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Order.id)))


def test_a_line_item_over_the_default_cap_is_stored_but_not_credited(cb):
    app = cb()
    r = post_ins(app.test_client(), _sale("999999999999.99"))
    assert (r.status_code, r.data) == (200, b"stored\n")
    assert _orders(app) == 1 and _commissions(app) == []
    [line] = [x for x in log_records(app, "commission") if x["event"].startswith("ins: comm")]
    assert "over the limit 1000000.00" in line["reason"] and line["receipt"] == "CAP1"
    # At the cap it is credited.
    r = post_ins(app.test_client(), _sale("1000000.00", receipt="CAP2"))
    assert r.status_code == 200
    [commission] = _commissions(app)
    assert commission.commission_total == Decimal("175000.00")


def test_an_order_total_over_the_cap_credits_nothing(cb):
    app = cb()
    r = post_ins(app.test_client(), _sale("10.00", total="999999999999.99"))
    assert r.status_code == 200 and _orders(app) == 1 and _commissions(app) == []


def test_the_cap_is_configurable_and_the_same_for_the_json_api(cb, api_key):
    app = cb(max_saletotal="5000.00")
    client = app.test_client()
    assert post_ins(client, _sale("5000.01")).status_code == 200
    assert _commissions(app) == []
    assert post_ins(client, _sale("5000.00", receipt="CAP2")).status_code == 200
    assert [c.sale_total for c in _commissions(app)] == [Decimal("5000.00")]

    with app.app_context():
        from affsrv.products.models import Product

        product_id = db.session.scalar(select(Product.id))
    over = api(client, api_key, "annie",
               commission={"saletotal": "5000.01", "product": product_id})
    assert over.status_code == 400 and "must not exceed 5000.00" in over.json["message"]
    at = api(client, api_key, "annie", commission={"saletotal": "5000.00",
                                                   "product": product_id, "ref": "api-1"})
    assert at.status_code == 200, at.json
    assert len(_commissions(app)) == 2
