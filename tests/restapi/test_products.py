"""``/rest/1.3/products``: PUT (create, update, validation), GET, list, DELETE, schema."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.extensions import db
from affsrv.products.models import Product
from tests.helpers import add_affiliate, api
from tests.restapi.conftest import Rest
from tests.restapi.contract import assert_json, assert_xml

DIGITAL = dict(site="myshop", title="The Book", currency="USD", language="EN", price="19.99",
               digital="true", categories="EBOOK", pitchPage="https://shop.example/book",
               thankYouPage="https://shop.example/thanks")
PHYSICAL_RECURRING = dict(
    site="myshop", title="Coffee Club", currency="EUR", language="DE", price="29.00",
    physicalRecurring="true", deliveryMethod="POST", deliverySpeed="STANDARD",
    description="A bag of coffee a month", shippingProfile="EU", duration="12",
    frequency="MONTHLY", rebillPrice="25.50", trialPeriod="0",
    mobilePitchPage="https://shop.example/m/coffee",
    mobileThankYouPage="https://shop.example/m/thanks", purchaseCommission="50",
    rebillCommission="25.5", saleRefundDaysLimit="30", rebillRefundDaysLimit="14",
    preRebillNotificationLeadTime="3", preRebillNotificationOverride="true", image="42",
    skipConfirmationPage="true",
)


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Product.id)))


def test_put_creates_then_get_answers_it_in_json_and_xml_per_the_contracts(rest):
    r = rest("PUT", "products/BOOK-1", **DIGITAL)
    assert r.status_code == 201 and r.json == {"@sku": "BOOK-1"}
    r = rest("GET", "products/BOOK-1", site="myshop")
    product = assert_json(r.data, "Product")
    assert product["@sku"] == "BOOK-1" and product["title"] == "The Book"
    assert product["digital"] == "true" and product["physical"] == "false"
    assert product["categories"] == [{"category": "EBOOK"}]
    assert product["pricings"] == [{"pricing": {
        "@currency": "USD", "standard": {"price": {"native_price": "19.99"}}}}]
    assert product["pitch_pages"] == {"desktop": "https://shop.example/book"}
    root = assert_xml(rest("GET", "products/BOOK-1", json=False, site="myshop").data,
                      "products.xsd")
    assert root.get("sku") == "BOOK-1" and root.findtext("title") == "The Book"


def test_every_put_parameter_is_stored_and_answered(rest, app):
    r = rest("PUT", "products/COFFEE", **PHYSICAL_RECURRING)
    assert r.status_code == 201, r.data
    product = assert_json(rest("GET", "products/COFFEE", site="myshop").data, "Product")
    assert product["physicalRecurring"] == "true" and product["language"] == "DE"
    assert product["description"] == "A bag of coffee a month"
    assert product["deliveryMethod"] == "POST" and product["deliverySpeed"] == "STANDARD"
    assert product["image"] == {"id": "42"}
    assert product["skip_confirmation_page"] == "true"
    assert product["sale_refund_days_limit"] == "30"
    assert product["rebill_refund_days_limit"] == "14"
    assert product["commission"]["purchase"] == "50.000"
    assert product["commission"]["rebill"] == "25.500"
    assert product["thank_you_pages"] == {"mobile": "https://shop.example/m/thanks"}
    pricing = product["pricings"][0]["pricing"]
    assert pricing["@currency"] == "EUR"
    assert pricing["standard"] == {"price": {"native_price": "29.00"}}
    assert pricing["recurring"] == {"price": {"native_price": "25.50"}, "frequency": "MONTHLY",
                                    "duration": "12", "trial_days": "0",
                                    "pre_rebill_override": "true", "pre_rebill_leadtime": "3"}
    assert pricing["physical"] == {"shipping_profile": "EU"}
    assert_xml(rest("GET", "products/COFFEE", json=False, site="myshop").data, "products.xsd")
    with app.app_context():
        stored = db.session.scalar(select(Product).where(Product.sku == "COFFEE"))
        assert stored.price == Decimal("29.00") and stored.rebill_price == Decimal("25.50")
        assert stored.landing_url == "https://shop.example/m/coffee"
        assert stored.commission_rate == Decimal("50")


def test_put_again_updates_the_same_product_answering_200(rest, app):
    rest("PUT", "products/BOOK-1", **DIGITAL)
    r = rest("PUT", "products/BOOK-1", **{**DIGITAL, "title": "Second Edition", "price": "24"})
    assert r.status_code == 200
    assert rest("GET", "products/BOOK-1", site="myshop").json["title"] == "Second Edition"
    assert _count(app) == 1


REFUSALS = [
    ({"currency": None}, "currency: is required"),
    ({"language": None}, "language: is required"),
    ({"price": None}, "price: is required"),
    ({"site": None}, "site: is required"),
    ({"title": None}, "title: is required"),
    ({"language": "NL"}, "language: must be one of DE, EN, ES, FR, IT, PT"),
    ({"currency": "XXX"}, "currency: must be one of"),
    ({"price": "9.999"}, "price: must be a plain decimal"),
    ({"price": "0"}, "price: must be more than zero"),
    ({"categories": "EBOOK,COMICS"}, "categories.1: must be one of"),
    ({"categories": None}, "categories: is required for a product with a digital component"),
    ({"digital": None}, "give at least one component"),
    ({"digital": "yes"}, "digital: must be true or false"),
    ({"pitchPage": None}, "give at least one pitch page"),
    ({"thankYouPage": None}, "give at least one thank-you page"),
    ({"pitchPage": "javascript:alert(1)"}, "pitchPage: must be an http(s) URL"),
    ({"colour": "red"}, "colour: is not a parameter of this method"),
    ({"purchaseCommission": "101"}, "purchaseCommission: must be a percentage"),
    ({"purchaseCommission": "\u0665\u0660"}, "purchaseCommission: must be a percentage"),
    ({"saleRefundDaysLimit": "-1"}, "saleRefundDaysLimit: must be a whole number"),
    ({"physical": "true"}, "deliveryMethod: is required for a product with a physical"),
    ({"physical": "true"}, "shippingProfile: is required for a product with a physical"),
    ({"physical": "true"}, "description: is required for a product with a physical"),
    ({"physical": "true"}, "deliverySpeed: is required for a product with a physical"),
    ({"digitalRecurring": "true"}, "duration: is required for a recurring product"),
    ({"digitalRecurring": "true"}, "frequency: is required for a recurring product"),
    ({"digitalRecurring": "true"}, "rebillPrice: is required for a recurring product"),
    ({"digitalRecurring": "true"}, "trialPeriod: is required for a recurring product"),
    ({"frequency": "DAILY"}, "frequency: must be one of WEEKLY"),
    ({"trialPeriod": "2"}, "trialPeriod: must be 0 or a whole number from 3 to 31"),
    ({"trialPeriod": "32"}, "trialPeriod: must be a whole number from 0 to 31"),
]


@pytest.mark.parametrize(("change", "reason"), REFUSALS)
def test_put_refuses_with_the_reason_and_writes_nothing(rest, app, change, reason):
    params = {k: v for k, v in {**DIGITAL, **change}.items() if v is not None}
    r = rest("PUT", "products/BOOK-1", **params)
    assert r.status_code == 400 and r.mimetype == "text/plain"
    assert reason in r.get_data(as_text=True)
    assert _count(app) == 0


def test_put_names_every_problem_at_once(rest, app):
    r = rest("PUT", "products/BOOK-1", site="myshop", digitalRecurring="true", physical="true")
    text = r.get_data(as_text=True)
    for name in ("currency", "language", "price", "title", "categories", "deliveryMethod",
                 "deliverySpeed", "description", "shippingProfile", "duration", "frequency",
                 "rebillPrice", "trialPeriod", "pitchPage", "thankYouPage"):
        assert f"{name}:" in text, name
    assert r.status_code == 400 and _count(app) == 0


def test_trial_period_3_to_31_and_0_are_accepted(rest):
    base = {**DIGITAL, "digitalRecurring": "true", "duration": "6", "frequency": "WEEKLY",
            "rebillPrice": "5"}
    for trial in ("0", "3", "31"):
        assert rest("PUT", "products/SUB", **base, trialPeriod=trial).status_code in (200, 201)


def test_parameters_are_read_from_the_query_string_only(client, auth):
    r = client.put("/rest/1.3/products/BOOK-1", data=DIGITAL,
                   headers={**auth, "Accept": "application/json"})
    assert r.status_code == 400 and "title: is required" in r.get_data(as_text=True)


def test_a_parameter_given_twice_is_refused(rest):
    r = rest("PUT", "products/BOOK-1", **{**DIGITAL, "price": ["1", "2"]})
    assert r.status_code == 400 and "price: given more than once" in r.get_data(as_text=True)


def test_several_categories_by_repeat_or_comma(rest):
    rest("PUT", "products/A", **{**DIGITAL, "categories": ["EBOOK", "AUDIO,VIDEO"]})
    cats = rest("GET", "products/A", site="myshop").json["categories"]
    assert cats == [{"category": "EBOOK"}, {"category": "AUDIO"}, {"category": "VIDEO"}]


def test_categories_without_a_digital_component_are_refused(rest):
    physical = {**PHYSICAL_RECURRING, "categories": "EBOOK"}
    r = rest("PUT", "products/C", **physical)
    assert r.status_code == 400 and "categories: are only for a product with a digital" in (
        r.get_data(as_text=True))


def test_a_bad_or_reserved_sku_is_400(rest):
    for sku in ("bad sku!", "x" * 65, "list"):
        assert rest("PUT", f"products/{sku}", **DIGITAL).status_code in (400, 404, 405), sku
    assert rest("PUT", "products/bad%20sku", **DIGITAL).status_code == 400


def test_get_needs_the_owning_site(rest):
    rest("PUT", "products/BOOK-1", **DIGITAL)
    assert rest("GET", "products/BOOK-1").status_code == 400
    assert rest("GET", "products/BOOK-1", site="MyShop").status_code == 200  # case-insensitive
    assert rest("GET", "products/BOOK-1", site="other").status_code == 403  # not the key's
    assert rest("GET", "products/NOPE", site="myshop").status_code == 404


def test_a_sku_of_another_of_the_keys_sites_is_409_naming_no_site(client, clerk):
    rest = Rest(client, {"Authorization": clerk(sites=("myshop", "othershop"))})
    rest("PUT", "products/BOOK-1", **DIGITAL)
    r = rest("PUT", "products/BOOK-1", **{**DIGITAL, "site": "othershop", "title": "Moved"})
    assert r.status_code == 409 and "myshop" not in r.get_data(as_text=True)
    assert rest("GET", "products/BOOK-1", site="myshop").json["title"] == "The Book"


def test_list_by_site_and_type(rest, client, clerk):
    rest("PUT", "products/BOOK-1", **DIGITAL)
    rest("PUT", "products/COFFEE", **PHYSICAL_RECURRING)
    other = Rest(client, {"Authorization": clerk(sites=("othershop",))})
    assert other("PUT", "products/ELSE", **{**DIGITAL, "site": "othershop"}).status_code == 201
    r = rest("GET", "products/list", site="myshop")
    listing = assert_json(r.data, "ProductList")
    assert r.status_code == 200 and listing["total_record_count"] == "2"
    assert [p["@sku"] for p in listing["products"]["product"]] == ["BOOK-1", "COFFEE"]
    standard = rest("GET", "products/list", site="myshop", type="STANDARD").json
    assert [p["@sku"] for p in standard["products"]["product"]] == ["BOOK-1"]
    recurring = rest("GET", "products/list", site="myshop", type="RECURRING").json
    assert [p["@sku"] for p in recurring["products"]["product"]] == ["COFFEE"]
    assert rest("GET", "products/list").status_code == 400  # site is required
    assert rest("GET", "products/list", site="myshop", type="OTHER").status_code == 400
    root = assert_xml(rest("GET", "products/list", json=False, site="myshop").data,
                      "products.xsd", "products/product")
    assert root.findtext("total_record_count") == "2"


def test_list_pages_100_at_a_time(rest, app):
    with app.app_context():
        db.session.add_all([Product(name=f"P{i}", landing_url="https://shop.example/",
                                    sku=f"S{i:03d}", site="myshop", digital=True,
                                    categories=["EBOOK"], price=Decimal("1"))
                            for i in range(101)])
        db.session.commit()
    first = rest("GET", "products/list", site="myshop")
    assert first.status_code == 206 and len(first.json["products"]["product"]) == 100
    second = rest("GET", "products/list", site="myshop", page=2)
    assert second.status_code == 200
    assert [p["@sku"] for p in second.json["products"]["product"]] == ["S100"]
    assert second.json["total_record_count"] == "101"


def test_delete_answers_204_and_hides_the_product(rest, app):
    rest("PUT", "products/BOOK-1", **DIGITAL)
    assert rest("DELETE", "products/BOOK-1").status_code == 400  # site is required
    r = rest("DELETE", "products/BOOK-1", site="myshop")
    assert r.status_code == 204 and r.data == b""
    assert rest("GET", "products/BOOK-1", site="myshop").status_code == 404
    assert rest("GET", "products/list", site="myshop").json["products"]["product"] == []
    assert rest("DELETE", "products/BOOK-1", site="myshop").status_code == 404
    with app.app_context():  # disabled, kept for the commissions that name it
        assert db.session.scalar(select(Product.enabled).where(Product.sku == "BOOK-1")) is False
    assert rest("PUT", "products/BOOK-1", **DIGITAL).status_code == 201
    assert rest("GET", "products/BOOK-1", site="myshop").json["status"] == "ACTIVE"


def test_schema_is_the_seed_xsd(client):
    from tests.restapi.contract import CONTRACTS

    seed = (CONTRACTS / "clickbank-products-api.txt").read_text()
    body = client.get("/rest/1.3/products/schema").get_data(as_text=True)
    assert body.strip() in seed


def test_a_product_put_through_rest_is_a_data_api_product_and_takes_commissions(
        make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    from affsrv.clerkkeys.services import create_clerk_key

    with app.app_context():
        header = create_clerk_key(["api_products_client"], sites=["myshop"])[1]
    client = app.test_client()
    r = client.put("/rest/1.3/products/BOOK-1", query_string=DIGITAL,
                   headers={"Authorization": header, "Accept": "application/json"})
    assert r.status_code == 201
    pid = client.get("/rest/1.3/products/BOOK-1", query_string={"site": "myshop"},
                     headers={"Authorization": header, "Accept": "application/json"}).json["id"]
    code = add_affiliate(app)
    r = api(client, api_key, code, commission={"product": pid, "saletotal": "19.99",
                                                "commtotal": "5.00"})
    assert r.status_code == 200, r.json
    r = api(client, api_key, code, data={"op": "commissions"})
    assert r.json["data"][pid]["sale_total"] == "19.99"
    assert r.json["data"][pid]["commission_total"] == "5.00"
    r = api(client, api_key, code, data={"op": "commissions", "product": pid})
    assert r.status_code == 200 and list(r.json["data"]) == [pid]
    r = api(client, api_key, code, referrer={"url": "https://blog.example/", "product": pid})
    assert r.status_code == 200, r.json
