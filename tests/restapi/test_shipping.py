"""``/rest/1.3/shipping2``: which orders are listed, date windows and status at their edges,
receipt lookup, ship notices, and the contracts (seed XSD, OpenAPI JSON)."""

import json
from datetime import UTC, datetime, timedelta

from affsrv.extensions import db
from affsrv.orders.models import Order, OrderLineItem
from tests.restapi.conftest import T0, add_orders
from tests.restapi.contract import assert_json, assert_xml, response_schema


def _receipts(response):
    return [o["receipt"] for o in json.loads(response.data)["orderShipData2"]]


def test_list_answers_the_seed_shape_in_json_and_xml(rest, app):
    add_orders(app, 2, vendor_variables={"v1": "a", "tid": "b"})
    r = rest("GET", "shipping2/list", startDate="2024-03-01", endDate="2024-03-01")
    assert r.status_code == 200
    data = assert_json(r.data, "ShippingList")["orderShipData2"]
    assert [o["receipt"] for o in data] == ["RCPT0000000", "RCPT0000001"]
    first = data[0]
    assert first["transactionTime"] == "2024-03-01T12:00:00Z"
    assert first["address1"] == "1 Main St" and first["address2"] == {"@nil": "true"}
    assert first["isTestTransaction"] == "false"
    assert first["vendorVariables"] == {"item": [{"name": "v1", "value": "a"},
                                                 {"name": "tid", "value": "b"}]}
    assert first["lineItemShipData"] == [{
        "itemNo": "SKU1", "productTitle": "Widget", "customerAmount": "49.95",
        "accountAmount": "40.00", "quantity": "1", "shippingMethod": {"@nil": "true"},
        "isRefundPending": "false", "hasBeenRefunded": "false",
        "hasBeenChargebacked": "false"}]
    xml = rest("GET", "shipping2/list", json=False, startDate="2024-03-01",
               endDate="2024-03-01")
    root = assert_xml(xml.data, "shipping2.xsd", "orderShipData")
    assert [e.findtext("receipt") for e in root.findall("orderShipData")] == [
        "RCPT0000000", "RCPT0000001"]


def test_only_physical_sales_and_rebills_are_listed(rest, app):
    add_orders(app, 1, first=0)  # shippable line item
    add_orders(app, 1, first=1, shippable=False, shipping_address1="", shipping_full_name="")
    add_orders(app, 1, first=2, shippable=False, source="shop")  # unflagged items, an address
    add_orders(app, 1, first=6, shippable=False)  # a ClickBank digital order with an address
    add_orders(app, 1, first=3, transaction_type="RFND")
    add_orders(app, 1, first=4, transaction_type="BILL")
    add_orders(app, 1, first=5, transaction_type="TEST_SALE")
    r = rest("GET", "shipping2/list", startDate="2024-03-01", endDate="2024-03-01")
    assert _receipts(r) == ["RCPT0000000", "RCPT0000002", "RCPT0000004", "RCPT0000005"]
    data = r.json["orderShipData2"]
    assert data[-1]["isTestTransaction"] == "true"


def test_an_item_added_later_makes_the_order_physical(rest, app):
    (oid,) = add_orders(app, 1, shippable=False, shipping_address1="", shipping_full_name="")
    assert rest("GET", "shipping2/count", startDate="2024-03-01",
                endDate="2024-03-01").data == b"0"
    with app.app_context():
        db.session.add(OrderLineItem(order_id=oid, item_no="MUG", shippable=True))
        db.session.commit()
    assert rest("GET", "shipping2/count", startDate="2024-03-01",
                endDate="2024-03-01").data == b"1"


def test_sorted_by_order_date_not_by_insertion(rest, app):
    add_orders(app, 1, first=0, start=T0 + timedelta(hours=2))
    add_orders(app, 1, first=1, start=T0)
    add_orders(app, 1, first=2, start=T0 + timedelta(hours=1))
    r = rest("GET", "shipping2/list", startDate="2024-03-01", endDate="2024-03-01")
    assert _receipts(r) == ["RCPT0000001", "RCPT0000002", "RCPT0000000"]


def _at(app, *times):
    for n, when in enumerate(times):
        add_orders(app, 1, first=n, start=when)


def test_date_window_is_inclusive_at_both_edges(rest, app):
    _at(app,
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),  # 0: the day before: out
        datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),  # 1: start day 00:00:00: in
        datetime(2024, 3, 3, 0, 0, 0, tzinfo=UTC),  # 2: end day 00:00:00: in
        datetime(2024, 3, 3, 23, 59, 59, tzinfo=UTC),  # 3: end day 23:59:59: in
        datetime(2024, 3, 4, 0, 0, 0, tzinfo=UTC))  # 4: the day after 00:00:00: out
    r = rest("GET", "shipping2/list", startDate="2024-03-01", endDate="2024-03-03")
    assert _receipts(r) == ["RCPT0000001", "RCPT0000002", "RCPT0000003"]
    r = rest("GET", "shipping2/count", startDate="2024-03-01", endDate="2024-03-03")
    assert r.data == b"3"
    single = rest("GET", "shipping2/list", startDate="2024-03-03", endDate="2024-03-03")
    assert _receipts(single) == ["RCPT0000002", "RCPT0000003"]


def test_dates_are_days_in_the_configured_timezone(make_app, clerk):
    app = make_app(server={"timezone": "America/New_York", "cache_seconds": 0})
    from affsrv.clerkkeys.services import create_clerk_key

    with app.app_context():
        header = create_clerk_key(["api_order_read"], sites=["myshop"])[1]
    _at(app,
        datetime(2024, 3, 1, 4, 59, 59, tzinfo=UTC),  # Feb 29 23:59:59 in New York: out
        datetime(2024, 3, 1, 5, 0, 0, tzinfo=UTC),  # Mar 1 00:00 in New York: in
        datetime(2024, 3, 2, 4, 59, 59, tzinfo=UTC))  # Mar 1 23:59:59 in New York: in
    r = app.test_client().get("/rest/1.3/shipping2/list",
                              query_string={"startDate": "2024-03-01", "endDate": "2024-03-01"},
                              headers={"Authorization": header, "Accept": "application/json"})
    assert _receipts(r) == ["RCPT0000001", "RCPT0000002"]


def test_days_defaults_to_30_and_dates_override_it(rest, app):
    now = datetime.now(UTC)
    _at(app, now - timedelta(days=31), now - timedelta(days=29), now - timedelta(days=2),
        now - timedelta(hours=1))
    assert _receipts(rest("GET", "shipping2/list")) == ["RCPT0000001", "RCPT0000002",
                                                        "RCPT0000003"]
    assert _receipts(rest("GET", "shipping2/list", days="3")) == ["RCPT0000002",
                                                                  "RCPT0000003"]
    assert _receipts(rest("GET", "shipping2/list", days="0")) == []
    assert rest("GET", "shipping2/count", days="40").data == b"4"
    old = (now - timedelta(days=31)).date().isoformat()
    r = rest("GET", "shipping2/list", days="3", startDate=old, endDate=old)
    assert _receipts(r) == ["RCPT0000000"]
    # One side alone is open on the other.
    r = rest("GET", "shipping2/list", days="1", startDate=old)
    assert len(_receipts(r)) == 4


def test_receipt_overrides_every_other_parameter(rest, app):
    _at(app, datetime(2020, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    rest("POST", "shipping2/shipnotice/RCPT0000000", date="2020-01-02", carrier="UPS",
         tracking="1Z")
    r = rest("GET", "shipping2/list", receipt="RCPT0000000", days="1", status="notshipped",
             startDate="2024-03-01", endDate="2024-03-01")
    assert _receipts(r) == ["RCPT0000000"]
    assert rest("GET", "shipping2/count", receipt="RCPT0000000").data == b"1"
    assert rest("GET", "shipping2/count", receipt="NOPE").data == b"0"


def test_status_filters_shipped_notshipped_all(rest, app):
    add_orders(app, 3)
    r = rest("POST", "shipping2/shipnotice/RCPT0000001", date="2024-03-02", carrier="UPS",
             tracking="1Z999")
    assert r.status_code == 200
    window = {"startDate": "2024-03-01", "endDate": "2024-03-01"}
    assert _receipts(rest("GET", "shipping2/list", status="shipped", **window)) == [
        "RCPT0000001"]
    assert _receipts(rest("GET", "shipping2/list", status="notshipped", **window)) == [
        "RCPT0000000", "RCPT0000002"]
    assert len(_receipts(rest("GET", "shipping2/list", status="all", **window))) == 3
    assert len(_receipts(rest("GET", "shipping2/list", **window))) == 3
    assert rest("GET", "shipping2/count", status="shipped", **window).data == b"1"
    assert rest("GET", "shipping2/count", status="notshipped", **window).data == b"2"


def test_count_formats(rest, app):
    add_orders(app, 2)
    window = {"startDate": "2024-03-01", "endDate": "2024-03-01"}
    r = rest("GET", "shipping2/count", **window)
    assert r.mimetype == "application/json" and json.loads(r.data) == 2
    assert response_schema("/rest/1.3/shipping2/count")["type"] == "integer"
    r = rest("GET", "shipping2/count", json=False, **window)
    assert r.mimetype == "application/xml" and b"<count>2</count>" in r.data


def test_refunds_and_chargebacks_are_flagged_on_the_sale(rest, app):
    add_orders(app, 2)
    add_orders(app, 1, first=0, transaction_type="RFND", start=T0 + timedelta(days=1))
    add_orders(app, 1, first=1, transaction_type="CGBK", start=T0 + timedelta(days=1))
    data = rest("GET", "shipping2/list", startDate="2024-03-01",
                endDate="2024-03-02").json["orderShipData2"]
    assert [o["receipt"] for o in data] == ["RCPT0000000", "RCPT0000001"]
    assert data[0]["lineItemShipData"][0]["hasBeenRefunded"] == "true"
    assert data[0]["lineItemShipData"][0]["hasBeenChargebacked"] == "false"
    assert data[1]["lineItemShipData"][0]["hasBeenChargebacked"] == "true"


def test_shipping_method_comes_from_the_catalogue_product(rest, app):
    rest("PUT", "products/MUG", site="myshop", title="Mug", currency="USD", language="EN",
         price="9", physical="true", deliveryMethod="COURIER", deliverySpeed="FAST",
         description="A mug", shippingProfile="US", pitchPage="https://shop.example/mug",
         thankYouPage="https://shop.example/t")
    pid = int(rest("GET", "products/MUG", site="myshop").json["id"])
    add_orders(app, 1, items=[{"product_id": pid, "item_no": "MUG"}])
    item = rest("GET", "shipping2/list", startDate="2024-03-01",
                endDate="2024-03-01").json["orderShipData2"][0]["lineItemShipData"][0]
    assert item["shippingMethod"] == "COURIER"


def test_the_billing_contact_is_used_when_there_is_no_shipping_one(rest, app):
    add_orders(app, 1, shipping_address1="", shipping_full_name="", shipping_first_name="",
               billing_address1="9 Elm St", billing_full_name="Bo Bill")
    data = rest("GET", "shipping2/list", startDate="2024-03-01",
                endDate="2024-03-01").json["orderShipData2"][0]
    assert data["address1"] == "9 Elm St" and data["fullName"] == "Bo Bill"


def test_ship_notice_answers_the_openapi_shape_and_is_idempotent(rest, app):
    add_orders(app, 1)
    params = dict(date="2024-03-02", carrier="UPS", tracking="1Z999", comments="boxed")
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", **params)
    notice = assert_json(r.data, "ShippingNoticeData")
    assert notice == {"shipDate": "2024-03-02T00:00:00Z", "carrier": "UPS",
                      "trackingId": "1Z999", "comments": "boxed", "receipt": "RCPT0000000",
                      "itemNo": "SKU1", "shippedTo": "Ann Lee, 1 Main St, Boise, ID, 83702, US"}
    rest("POST", "shipping2/shipnotice/RCPT0000000", **params)
    listed = rest("GET", "shipping2/shipnotice/RCPT0000000")
    assert len(assert_json(listed.data, "ShippingNoticeList")["shippingNoticeData"]) == 1
    xml = rest("POST", "shipping2/shipnotice/RCPT0000000", json=False, **params)
    assert b"<shippingNoticeData>" in xml.data and b"<carrier>UPS</carrier>" in xml.data


def test_ship_notice_refusals(rest, app):
    add_orders(app, 1, items=[{"item_no": "A"}, {"item_no": "B"}])
    add_orders(app, 1, first=1, shippable=False, shipping_address1="", shipping_full_name="")
    ok = dict(date="2024-03-02", carrier="UPS", tracking="1Z")
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", **ok)
    assert r.status_code == 400 and "several physical items" in r.get_data(as_text=True)
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", item="C", **ok)
    assert r.status_code == 400 and "no physical item C" in r.get_data(as_text=True)
    assert rest("POST", "shipping2/shipnotice/NOPE", **ok).status_code == 404
    assert rest("POST", "shipping2/shipnotice/RCPT0000001", **ok).status_code == 404
    for missing in ("date", "carrier", "tracking"):
        params = {k: v for k, v in ok.items() if k != missing}
        r = rest("POST", "shipping2/shipnotice/RCPT0000000", item="A", **params)
        assert r.status_code == 400 and f"{missing}: is required" in r.get_data(as_text=True)
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", item="A", **{**ok, "date": "2024-13-01"})
    assert r.status_code == 400
    assert rest("GET", "shipping2/count", status="shipped", days="10000").data == b"0"
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", item="B", **ok)
    assert r.status_code == 200 and r.json["itemNo"] == "B"
    r = rest("POST", "shipping2/shipnotice/RCPT0000000", fillOrder="true", **ok)
    assert r.status_code == 200
    assert len(rest("GET", "shipping2/shipnotice/RCPT0000000").json["shippingNoticeData"]) == 2


def test_a_rebill_on_the_same_receipt_is_shipped_after_the_sale(rest, app):
    add_orders(app, 1)
    add_orders(app, 1, transaction_type="BILL", start=T0 + timedelta(days=1))
    ok = dict(date="2024-03-02", carrier="UPS")
    rest("POST", "shipping2/shipnotice/RCPT0000000", tracking="first", **ok)
    window = {"startDate": "2024-03-01", "endDate": "2024-03-02"}
    shipped = rest("GET", "shipping2/list", status="shipped", **window).json["orderShipData2"]
    assert [o["transactionTime"] for o in shipped] == ["2024-03-01T12:00:00Z"]
    rest("POST", "shipping2/shipnotice/RCPT0000000", tracking="second", **ok)
    assert rest("GET", "shipping2/count", status="notshipped", **window).data == b"0"


def test_schema_is_the_seed_xsd(client):
    from tests.restapi.contract import CONTRACTS

    seed = (CONTRACTS / "clickbank-shipping-api.txt").read_text()
    body = client.get("/rest/1.3/shipping2/schema").get_data(as_text=True)
    assert body.strip() in seed and "orderShipData" in body


def test_orders_written_without_the_orm_listener_still_count_when_flagged(rest, app):
    with app.app_context():
        from sqlalchemy import insert

        from tests.restapi.conftest import order_fields

        db.session.execute(insert(Order), [order_fields(9, T0, physical=True)])
        db.session.commit()
    assert rest("GET", "shipping2/count", startDate="2024-03-01",
                endDate="2024-03-01").data == b"1"
