"""One merchant's day across the three APIs: a product made through the REST API is sold
through ClickBank INS, credited to an affiliate (Data API), shipped (shipping2), listed
(orders2) and refunded."""

from datetime import UTC, datetime, timedelta

from tests.clickbank.support import ACCOUNT, add_cb_account, notification, post_ins
from tests.helpers import add_affiliate, api
from tests.restapi.conftest import Rest
from tests.restapi.contract import assert_json

PHYSICAL = dict(site=ACCOUNT, title="Widget Kit", currency="USD", language="EN", price="49.95",
                physical="true", deliveryMethod="POST", deliverySpeed="STANDARD",
                description="A kit in a box", shippingProfile="US",
                pitchPage="https://shop.example/kit", thankYouPage="https://shop.example/ty",
                purchaseCommission="20")


def test_rest_product_sold_through_ins_is_credited_shipped_and_refunded(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client = app.test_client()
    from affsrv.clerkkeys.services import ROLES, create_clerk_key

    with app.app_context():
        rest = Rest(client, {"Authorization": create_clerk_key(ROLES, "t", sites=[ACCOUNT])[1]})
    assert rest("PUT", "products/KIT-1", **PHYSICAL).status_code == 201
    code = add_affiliate(app, code="annie")
    add_cb_account(app)
    when = datetime.now(UTC) - timedelta(hours=1)
    sale = notification(receipt="KITR0001", affiliate="annie",
                        transactionTime=when.isoformat(timespec="seconds"),
                        lineItems=[{**notification()["lineItems"][0], "itemNo": "KIT-1",
                                    "productPrice": 49.95, "affiliatePayout": 5.00}])
    assert post_ins(client, sale).status_code == 200

    # The Data API credits the affiliate: the product's 20% rate of 49.95.
    data = api(client, api_key, code, data={"op": "commissions"}).json["data"]
    [(pid, totals)] = data.items()
    assert (totals["commissions"], totals["sale_total"], totals["commission_total"]) == (
        "1", "49.95", "9.99")
    product = assert_json(rest("GET", "products/KIT-1", site=ACCOUNT).data, "Product")
    assert product["@sku"] == "KIT-1"

    # shipping2 lists the physical order with the customer's shipping address, not shipped.
    listed = assert_json(rest("GET", "shipping2/list", status="notshipped").data,
                         "ShippingList")["orderShipData2"]
    [order] = listed if isinstance(listed, list) else [listed]
    assert (order["receipt"], order["city"], order["postalCode"], order["email"]) == (
        "KITR0001", "Boise", "83702", "mary@buyer.example")
    r = rest("POST", "shipping2/shipnotice/KITR0001", date=when.date().isoformat(),
             carrier="UPS", tracking="1Z999", item="KIT-1")
    assert r.status_code == 200
    assert rest("GET", "shipping2/count", status="shipped").data == b"1"
    assert rest("GET", "shipping2/count", status="notshipped").data == b"0"

    # orders2 has the sale with its affiliate.
    orders = assert_json(rest("GET", "orders2/KITR0001").data, "OrderList")["orderData"]
    [found] = orders if isinstance(orders, list) else [orders]
    assert (found["transactionType"], found["affiliate"]) == ("SALE", "annie")

    # A refund through INS reverses the commission and flags the shipped order.
    refund = notification(receipt="KITR0001", transactionType="RFND", affiliate="annie",
                          transactionTime=(when + timedelta(minutes=5)).isoformat(
                              timespec="seconds"),
                          lineItems=sale["lineItems"])
    assert post_ins(client, refund).status_code == 200
    assert api(client, api_key, code, data={"op": "commissions"}).json["data"] == {}
    shipped = assert_json(rest("GET", "shipping2/list", status="all").data,
                          "ShippingList")["orderShipData2"]
    [shipped] = shipped if isinstance(shipped, list) else [shipped]
    items = shipped["lineItemShipData"]
    [item] = items if isinstance(items, list) else [items]
    assert item["hasBeenRefunded"] == "true"
