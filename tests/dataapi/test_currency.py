"""One ledger currency (``[commissions] currency``): the Data API's totals and the payouts never
add amounts in different currencies."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, api, count_rows, log_records


@pytest.fixture
def shop(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    code = add_affiliate(app, code="annie")
    pid = add_product(app, sku="WIDGET-1", commission_rate=Decimal("20"))
    return app, app.test_client(), api_key, code, pid


def _data(client, key, code, op):
    r = api(client, key, code, data={"op": op})
    assert r.status_code == 200, r.json
    return {k: {f: v for f, v in t.items() if not f.startswith("last_")}
            for k, t in r.json["data"].items()}


def _sale(client, key, code, pid, **extra):
    return api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                              "commtotal": "1.00", **extra})


def test_commission_call_in_the_ledger_currency_is_recorded(shop):
    app, client, key, code, pid = shop
    r = _sale(client, key, code, pid, currency="USD")
    assert r.status_code == 200, r.json
    with app.app_context():
        assert db.session.get(Commission, int(r.json["id"])).currency == "USD"


def test_commission_call_in_another_currency_is_refused_and_nothing_written(shop):
    app, client, key, code, pid = shop
    r = _sale(client, key, code, pid, currency="EUR", ref="o-1")
    assert r.status_code == 400
    assert r.json["status"] == "error"
    assert r.json["message"].startswith("commission.currency: must be USD")
    assert count_rows(app, Commission) == 0
    assert log_records(app, "commission")[-1]["reason"] == r.json["message"]


def test_the_ledger_currency_is_the_configured_one(make_app, api_key):
    app = make_app(commissions={"require_approval": False, "currency": "EUR"})
    client, code, pid = app.test_client(), add_affiliate(app), add_product(app)
    assert _sale(client, api_key, code, pid, currency="EUR").status_code == 200
    assert _sale(client, api_key, code, pid).status_code == 200  # no currency: EUR
    r = _sale(client, api_key, code, pid, currency="USD")
    assert r.status_code == 400 and "must be EUR" in r.json["message"]
    with app.app_context():
        assert set(db.session.scalars(select(Commission.currency))) == {"EUR"}


def test_a_refund_naming_another_currency_is_refused(shop):
    app, client, key, code, pid = shop
    assert _sale(client, key, code, pid, ref="o-1").status_code == 200
    r = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "o-1",
                                            "currency": "EUR"})
    assert r.status_code == 400 and "commission.currency" in r.json["message"]
    assert _data(client, key, code, "commissions")[str(pid)]["commissions"] == "1"


def _eur_sale(client, receipt="EURO0001"):
    return post_ins(client, notification(affiliate="annie", receipt=receipt, currency="EUR"))


def test_commission_totals_leave_out_commissions_in_another_currency(shop):
    app, client, key, code, pid = shop
    assert _sale(client, key, code, pid).status_code == 200
    assert _eur_sale(client).status_code == 200  # ClickBank: an order paid in euros
    with app.app_context():
        eur = db.session.scalar(select(Commission).where(Commission.currency == "EUR"))
        assert (eur.sale_total, eur.commission_total) == (Decimal("49.95"), Decimal("9.99"))
    expected = {str(pid): {"commissions": "1", "sale_total": "10.00",
                           "commission_total": "1.00"}}
    assert _data(client, key, code, "commissions") == expected
    r = api(client, key, code, data={"op": "commissions", "product": str(pid)})
    assert {p: t["sale_total"] for p, t in r.json["data"].items()} == {str(pid): "10.00"}


def test_ins_commission_in_another_currency_is_logged(shop):
    app, client, _key, _code, _pid = shop
    assert _eur_sale(client).status_code == 200
    [record] = [r for r in log_records(app, "commission") if r.get("currency") == "EUR"]
    assert record["receipt"] == "EURO0001" and record["ledger_currency"] == "USD"
    assert "not in the Data API's totals" in record["event"]


def test_a_payout_settles_only_commissions_in_its_currency(shop):
    app, client, key, code, pid = shop
    assert _eur_sale(client, "EURO0001").status_code == 200  # 9.99 EUR, the oldest
    assert _sale(client, key, code, pid, ref="o-1").status_code == 200  # 1.00 USD
    result = run_cli(app, "payment", "add", "--affiliate", code, "--method", "PayPal",
                     "--amount", "20.00")
    assert result.exit_code == 0, result.output
    with app.app_context():
        paid = {c.currency: c.payment_id is not None for c in db.session.scalars(
            select(Commission))}
    assert paid == {"USD": True, "EUR": False}
    result = run_cli(app, "payment", "add", "--affiliate", code, "--method", "SEPA",
                     "--amount", "9.99", "--currency", "EUR")
    assert result.exit_code == 0, result.output
    assert "9.99 EUR" in result.output
    with app.app_context():
        assert all(c.payment_id is not None for c in db.session.scalars(select(Commission)))
    # The payments op, like commissions, reports the ledger currency only.
    assert _data(client, key, code, "payments") == {
        "PayPal": {"payments": "1", "payment_total": "20.00"}}


def test_payment_currency_must_be_a_currency_code(shop):
    app, _client, _key, code, _pid = shop
    result = run_cli(app, "payment", "add", "--affiliate", code, "--method", "SEPA",
                     "--amount", "1.00", "--currency", "euro")
    assert result.exit_code == 1
    assert "Error: currency: must be three capital letters, e.g. EUR" in result.output
