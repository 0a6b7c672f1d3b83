"""The Data API ops (`info`, `commissions`, `payments`, `referrals`), shaped as the seed says."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.services import record_payment
from tests.helpers import add_affiliate, add_product, api


@pytest.fixture
def approved_app(make_app):
    return make_app(commissions={"require_approval": False})


def test_info_returns_every_seed_field_as_strings_and_never_the_password(app, client, api_key):
    code = add_affiliate(app, email="john@example.com", fname="John", lname="Smith",
                         commtier=Decimal("17.5"), ip="203.0.113.9", payinfo="paypal:j@x",
                         notes="VIP", password="s3cret-password",
                         extra={"company": "Acme", "tier": 2, "password": "x"})
    with app.app_context():
        created = db.session.query(Affiliate).filter_by(code=code).one().created_at
    r = api(client, api_key, code, data={"op": "info"})
    assert r.status_code == 200
    assert r.json == {"status": "ok", "data": {
        "id": code, "ts": str(int(created.timestamp())), "code": code, "fname": "John",
        "lname": "Smith", "email": "john@example.com", "ip": "203.0.113.9",
        "commtier": "17.5%", "payinfo": "paypal:j@x", "notes": "VIP", "approved": "yes",
        "en": "yes", "company": "Acme", "tier": "2"}}
    assert "s3cret" not in r.get_data(as_text=True)
    assert list(r.json["data"])[:12] == ["id", "ts", "code", "fname", "lname", "email", "ip",
                                          "commtier", "payinfo", "notes", "approved", "en"]


def test_info_of_pending_affiliate_without_commtier(make_app, api_key):
    app = make_app()
    code = add_affiliate(app, pending=True)
    r = api(app.test_client(), api_key, code, data={"op": "info"})
    assert r.json["data"]["approved"] == "no"
    assert r.json["data"]["commtier"] == ""


def test_commissions_counts_approved_only_per_product(make_app, api_key):
    app = make_app()  # approval required: new commissions are pending
    client = app.test_client()
    code = add_affiliate(app)
    p4, p5 = add_product(app, "Four"), add_product(app, "Five")
    for product, sale, comm in [(p4, "40.00", "10.00"), (p4, "43.78", "12.13"),
                                (p4, "40.00", "12.00"), (p5, "100.00", "30.00"),
                                (p5, "5.00", "1.00")]:
        r = api(client, api_key, code, commission={"product": product, "saletotal": sale,
                                                    "commtotal": comm})
        assert r.status_code == 200 and r.json["commission_status"] == "pending"
    assert api(client, api_key, code, data={"op": "commissions"}).json == {
        "status": "ok", "data": {}}
    stamp = datetime(2018, 9, 5, 16, 0, tzinfo=UTC)
    with app.app_context():
        db.session.execute(update(Commission).where(Commission.sale_total != Decimal("5.00"))
                           .values(status="approved", created_at=stamp))
        db.session.commit()
    r = api(client, api_key, code, data={"op": "commissions"})
    assert r.json == {"status": "ok", "data": {
        str(p4): {"commissions": "3", "sale_total": "123.78", "commission_total": "34.13",
                  "last_commission": "1536163200"},
        str(p5): {"commissions": "1", "sale_total": "100.00", "commission_total": "30.00",
                  "last_commission": "1536163200"}}}
    r = api(client, api_key, code, data={"op": "commissions", "product": str(p5)})
    assert list(r.json["data"]) == [str(p5)]
    r = api(client, api_key, code, data={"op": "commissions", "product": p4})
    assert list(r.json["data"]) == [str(p4)]


def test_empty_affiliate_gets_empty_data_for_every_op(app, client, api_key):
    code = add_affiliate(app)
    for op in ("commissions", "payments", "referrals"):
        assert api(client, api_key, code, data={"op": op}).json == {"status": "ok", "data": {}}


def test_payments_per_method(approved_app, api_key):
    client = approved_app.test_client()
    code = add_affiliate(approved_app)
    with approved_app.app_context():
        affiliate = db.session.query(Affiliate).filter_by(code=code).one()
        record_payment(affiliate, method="2Checkout", amount="24.66")
        record_payment(affiliate, method="Stripe", amount="3.9")
        record_payment(affiliate, method="Stripe", amount="1.10")
    r = api(client, api_key, code, data={"op": "payments"})
    data = r.json["data"]
    assert set(data) == {"2Checkout", "Stripe"}
    assert data["2Checkout"]["payments"] == "1" and data["2Checkout"]["payment_total"] == "24.66"
    assert data["Stripe"] == {"payments": "2", "payment_total": "5.00",
                              "last_payment": data["Stripe"]["last_payment"]}
    assert data["Stripe"]["last_payment"].isdigit()


def test_referrals_grouped_by_product_and_link(app, client, api_key):
    code = add_affiliate(app)
    p1, p4 = add_product(app, "One"), add_product(app, "Four")
    sends = [(p1, "https://www.example.com")] * 3 + [
        (p4, "https://www.example1.com"), (p4, "https://www.example2.com"),
        (p4, "https://www.example1.com"), (p4, None)]
    for product, url in sends:
        referrer = {"product": product, "ip": "198.51.100.4"}
        if url:
            referrer["url"] = url
        r = api(client, api_key, code, referrer=referrer)
        assert r.status_code == 200 and r.json["id"].isdigit()
    r = api(client, api_key, code, data={"op": "referrals"})
    assert r.json == {"status": "ok", "data": {
        str(p1): {"referrers": [{"count": "3", "link": "https://www.example.com"}]},
        str(p4): {"referrers": [{"count": "1", "link": ""},
                                {"count": "2", "link": "https://www.example1.com"},
                                {"count": "1", "link": "https://www.example2.com"}]}}}
    r = api(client, api_key, code, data={"op": "referrals", "product": p1})
    assert list(r.json["data"]) == [str(p1)]


def test_index_php_answers_like_api(app, client, api_key):
    code = add_affiliate(app)
    r = api(client, api_key, code, path="/index.php", data={"op": "info"})
    assert r.status_code == 200 and r.json["data"]["code"] == code


def test_data_ops_of_a_disabled_affiliate_are_refused(app, client, api_key):
    code = add_affiliate(app)
    with app.app_context():
        from affsrv.affiliates.services import set_enabled
        set_enabled(code, False)
    r = api(client, api_key, code, data={"op": "info"})
    assert r.status_code == 403 and r.json == {"status": "error",
                                               "message": f"affiliate {code!r} is disabled"}
