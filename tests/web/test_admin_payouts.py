"""/admin/payouts and /admin/payments: who is owed, recording a payout batch, the PayPal
Payouts file and the payments CSV."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from sqlalchemy import select

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.models import Payment
from tests.helpers import add_affiliate, add_product
from tests.web.support import csrf_token, merchant_client, record_sale


def _setup(make_app):
    app = make_app(commissions={"require_approval": False})
    add_affiliate(app, code="ann", email="ann@blog.example", payinfo="ann@paypal.example")
    add_affiliate(app, code="bob", email="bob@site.example", payinfo="IBAN DE00 1234")
    add_affiliate(app, code="cy", email="cy@site.example")
    pid = add_product(app)
    record_sale(app, "ann", pid, "60.00", ref="a1")
    record_sale(app, "ann", pid, "15.50", ref="a2")
    record_sale(app, "bob", pid, "55.00", ref="b1")
    record_sale(app, "cy", pid, "10.00", ref="c1")  # below the default minimum of 50
    record_sale(app, "cy", pid, "99.00", ref="c2", currency="EUR")  # not the ledger's
    return app, pid


def _owed(client, query=""):
    html = client.get("/admin/payouts?" + query).get_data(as_text=True)
    return dict(re.findall(r'id="payee-([^"]+)">.*?<td class="num owed">([-\d.,]+)</td>', html,
                           re.S))


def test_lists_who_is_owed_at_least_the_minimum_in_the_ledger_currency(make_app):
    app, _pid = _setup(make_app)
    client = merchant_client(app)
    assert _owed(client) == {"ann": "75.50", "bob": "55.00"}
    assert _owed(client, "minimum=60") == {"ann": "75.50"}
    assert _owed(client, "minimum=0") == {"ann": "75.50", "bob": "55.00", "cy": "10.00"}
    page = client.get("/admin/payouts").get_data(as_text=True)
    assert re.search(r'id="owed-total">130.50 USD<', page)
    assert "ann@paypal.example" in page and "bob@site.example" in page
    assert client.get("/admin/payouts?minimum=lots").status_code == 400
    assert client.get("/admin/payouts?minimum=-1").status_code == 400


def test_pending_and_disabled_are_not_owed(make_app):
    app = make_app()  # commissions wait for approval
    add_affiliate(app, code="ann")
    record_sale(app, "ann", add_product(app), "80.00")
    client = merchant_client(app)
    assert _owed(client) == {}


def test_paypal_payouts_file_has_paypals_columns(make_app):
    app, _pid = _setup(make_app)
    answer = merchant_client(app).get("/admin/payouts/paypal.csv?minimum=50")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    # No header: recipient, amount, currency, customer id, note, wallet.
    assert rows == [
        ["ann@paypal.example", "75.50", "USD", "ann", "Affiliate commissions", "PAYPAL"],
        ["bob@site.example", "55.00", "USD", "bob", "Affiliate commissions", "PAYPAL"],
    ]


def test_recording_a_batch_pays_each_ticked_affiliate_what_is_owed(make_app):
    app, pid = _setup(make_app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/payouts")
    done = client.post("/admin/payouts", data={"csrf_token": token, "affiliate": ["ann", "bob"],
                                               "method": "paypal", "reference": "BATCH-7"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/payments"
    assert "Recorded 2 payment(s), 130.50 USD in all." in client.get(
        "/admin/payments").get_data(as_text=True)
    with app.app_context():
        paid = {(p.affiliate_id, p.amount, p.currency, p.method, p.reference)
                for p in db.session.scalars(select(Payment))}
        unpaid = db.session.scalars(select(Commission.order_ref).where(
            Commission.payment_id.is_(None))).all()
    assert {(amount, cur, method, ref) for _a, amount, cur, method, ref in paid} == {
        (Decimal("75.50"), "USD", "paypal", "BATCH-7"),
        (Decimal("55.00"), "USD", "paypal", "BATCH-7")}
    assert sorted(unpaid) == ["c1", "c2"]  # the paid commissions are marked paid
    assert _owed(client, "minimum=0") == {"cy": "10.00"}
    # A commission approved later is owed again.
    record_sale(app, "ann", pid, "5.00", ref="a3")
    assert _owed(client, "minimum=0") == {"ann": "5.00", "cy": "10.00"}


def test_a_batch_is_all_or_nothing(make_app):
    app, _pid = _setup(make_app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/payouts")
    # dan does not exist: nobody is paid.
    refused = client.post("/admin/payouts", data={"csrf_token": token,
                                                  "affiliate": ["ann", "dan"],
                                                  "method": "paypal"})
    assert refused.status_code == 404
    # An affiliate owed nothing now (paid meanwhile, say): nobody is paid.
    add_affiliate(app, code="zed")
    nothing = client.post("/admin/payouts", data={"csrf_token": token,
                                                  "affiliate": ["ann", "zed"],
                                                  "method": "paypal"})
    assert nothing.status_code == 409
    bad_method = client.post("/admin/payouts", data={"csrf_token": token, "affiliate": "ann",
                                                     "method": "bitcoin"})
    assert bad_method.status_code == 400
    none = client.post("/admin/payouts", data={"csrf_token": token, "method": "paypal"})
    assert none.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Payment)).all() == []


def test_payments_list_and_csv(make_app):
    app, _pid = _setup(make_app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/payouts")
    client.post("/admin/payouts", data={"csrf_token": token, "affiliate": ["ann", "bob"],
                                        "method": "bank", "reference": "=cmd"})
    page = client.get("/admin/payments").get_data(as_text=True)
    assert page.count("BATCH") == 0 and "75.50 USD" in page and "55.00 USD" in page
    rows = list(csv.DictReader(io.StringIO(
        client.get("/admin/payments.csv").get_data(as_text=True))))
    assert sorted((r["affiliate"], r["amount"], r["currency"], r["method"], r["reference"])
                  for r in rows) == [("ann", "75.50", "USD", "bank", "'=cmd"),
                                     ("bob", "55.00", "USD", "bank", "'=cmd")]
    only_bob = list(csv.DictReader(io.StringIO(
        client.get("/admin/payments.csv?affiliate=bob").get_data(as_text=True))))
    assert [r["affiliate"] for r in only_bob] == ["bob"]
    assert client.get("/admin/payments?affiliate=nobody").status_code == 404
