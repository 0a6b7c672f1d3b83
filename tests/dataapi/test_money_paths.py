"""Money-path boundaries of the Data API's commission call and of payouts, each pinned by a test
that fails when the boundary moves (docs/money-paths.md)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from tests.clickbank.support import run_cli
from tests.helpers import add_affiliate, add_product, api, count_rows


@pytest.fixture
def shop(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    return app, app.test_client(), api_key, add_affiliate(app), add_product(app)


def _sale(client, key, code, pid, saletotal, commtotal, ref):
    return api(client, key, code, commission={"product": pid, "saletotal": saletotal,
                                              "commtotal": commtotal, "ref": ref})


# 7. An affiliate who is not approved ------------------------------------------------------------

def test_an_unapproved_affiliate_earns_once_approved(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, affiliates={"require_approval": True},
                   mail={"enabled": False})
    client, code, pid = app.test_client(), add_affiliate(app), add_product(app)
    r = _sale(client, api_key, code, pid, "50.00", "5.00", "o-1")
    assert r.status_code == 403 and "awaiting approval" in r.json["message"]
    assert count_rows(app, Commission) == 0
    r = api(client, api_key, code, referrer={"url": "https://blog.example/", "product": pid})
    assert r.status_code == 403 and "awaiting approval" in r.json["message"]
    assert run_cli(app, "affiliate", "approve", code).exit_code == 0
    r = _sale(client, api_key, code, pid, "50.00", "5.00", "o-1")
    assert r.status_code == 200 and r.json["duplicate"] == "no", r.json


def test_an_unapproved_affiliate_earns_when_approval_is_not_required(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    client, pid = app.test_client(), add_product(app)
    code = add_affiliate(app, pending=True)
    r = _sale(client, api_key, code, pid, "50.00", "5.00", "o-1")
    assert r.status_code == 200 and r.json["commtotal"] == "5.00", r.json


# 8. A commission equal to its sale total -------------------------------------------------------

def test_a_commission_equal_to_its_sale_total_is_recorded(shop):
    app, client, key, code, pid = shop
    r = _sale(client, key, code, pid, "19.99", "19.99", "o-1")
    assert r.status_code == 200 and r.json["commtotal"] == "19.99", r.json
    r = _sale(client, key, code, pid, "19.99", "20.00", "o-2")
    assert r.status_code == 400 and "is more than commission.saletotal" in r.json["message"]
    assert count_rows(app, Commission) == 1


# 9. Payout order among commissions created at the same instant ----------------------------------

def test_a_payout_settles_commissions_of_one_instant_in_id_order(shop):
    """Oldest first; of commissions recorded at the same instant, the lower id first. The rows
    are given their times after insertion, the tied ones last-id-first, so that a database
    returning them in storage order (PostgreSQL after an update) would not follow ids."""
    app, client, key, code, pid = shop
    ids = {}
    for ref, amount in (("first", "10.00"), ("second", "6.00"), ("earliest", "1.00")):
        r = _sale(client, key, code, pid, "100.00", amount, ref)
        assert r.status_code == 200, r.json
        ids[ref] = int(r.json["id"])
    tie, before = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 11, tzinfo=UTC)
    with app.app_context():
        for ref, when in (("second", tie), ("first", tie), ("earliest", before)):
            db.session.execute(update(Commission).where(Commission.id == ids[ref])
                               .values(created_at=when))
        db.session.commit()
    # 11.00 covers the earliest (1.00) and then exactly the tied commission with the lower id.
    paid = run_cli(app, "payment", "add", "--affiliate", code, "--method", "PayPal",
                   "--amount", "11.00")
    assert paid.exit_code == 0, paid.output
    with app.app_context():
        settled = set(db.session.scalars(
            select(Commission.order_ref).where(Commission.payment_id.is_not(None))))
    assert settled == {"earliest", "first"}
    assert api(client, key, code, data={"op": "payments"}).json["data"]["PayPal"][
        "payment_total"] == "11.00"


def test_a_payout_settles_sales_only_never_a_clawback(shop):
    """A clawback (the negative twin of a paid commission charged back) is no debt a payout
    settles: it neither takes the payout's money nor gives it back for later sales."""
    app, client, key, code, pid = shop
    assert _sale(client, key, code, pid, "100.00", "10.00", "A").status_code == 200
    paid = run_cli(app, "payment", "add", "--affiliate", code, "--method", "PayPal",
                   "--amount", "10.00")
    assert paid.exit_code == 0, paid.output
    assert _sale(client, key, code, pid, "100.00", "6.00", "B").status_code == 200
    r = api(client, key, code, commission={"product": pid, "type": "chargeback", "ref": "A"})
    assert r.status_code == 200, r.json
    assert _sale(client, key, code, pid, "100.00", "9.00", "C").status_code == 200
    paid = run_cli(app, "payment", "add", "--affiliate", code, "--method", "PayPal",
                   "--amount", "6.00")
    assert paid.exit_code == 0, paid.output
    with app.app_context():
        rows = db.session.execute(select(Commission.order_ref, Commission.commission_total,
                                         Commission.payment_id).order_by(Commission.id)).all()
    assert [(ref, total, payment is not None) for ref, total, payment in rows] == [
        ("A", Decimal("10.00"), True), ("B", Decimal("6.00"), True),
        ("A", Decimal("-10.00"), False), ("C", Decimal("9.00"), False)]
