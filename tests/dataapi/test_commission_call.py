"""The commission call: amounts, commtier, idempotent `ref`, refunds and chargebacks."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.services import record_payment
from tests.helpers import add_affiliate, add_product, api, count_rows


@pytest.fixture
def shop(make_app, api_key):
    """An app where commissions count at once, one affiliate and one product."""
    app = make_app(commissions={"require_approval": False})
    return app, app.test_client(), api_key, add_affiliate(app), add_product(app)


def _totals(client, key, code):
    return api(client, key, code, data={"op": "commissions"}).json["data"]


def test_commission_sent_by_the_shop_is_recorded(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission={"product": pid, "saletotal": 1245.76,
                                            "commtotal": "124.58", "notes": "order 7",
                                            "ip": "198.51.100.7"})
    assert r.status_code == 200
    assert r.json == {"status": "ok", "id": r.json["id"], "commtotal": "124.58",
                      "commission_status": "approved", "duplicate": "no"}
    with app.app_context():
        c = db.session.get(Commission, int(r.json["id"]))
        assert (c.sale_total, c.commission_total, c.notes, c.ip, c.currency) == (
            Decimal("1245.76"), Decimal("124.58"), "order 7", "198.51.100.7", "USD")
        assert isinstance(c.sale_total, Decimal)


def test_commtier_overrides_sent_amount_rounding_half_up(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    client = app.test_client()
    code = add_affiliate(app, commtier=Decimal("17.5"))
    pid = add_product(app)
    # 17.5% of 0.30 = 0.0525 -> 0.05; of 0.90 = 0.1575 -> 0.16 (half up, not banker's)
    for sale, expected in [("0.30", "0.05"), ("0.90", "0.16"), ("100.00", "17.50")]:
        r = api(client, api_key, code, commission={"product": pid, "saletotal": sale,
                                                    "commtotal": "99.00"})
        assert r.json["commtotal"] == expected
    r = api(client, api_key, code, commission={"product": pid, "saletotal": "10.00"})
    assert r.json["commtotal"] == "1.75"  # no commtotal needed with a commtier


def test_pending_by_default_and_counted_once_approved(make_app, api_key):
    app = make_app()
    client = app.test_client()
    code, pid = add_affiliate(app), add_product(app)
    r = api(client, api_key, code, commission={"product": pid, "saletotal": "10",
                                                "commtotal": "1"})
    assert r.json["commission_status"] == "pending"
    assert _totals(client, api_key, code) == {}


def test_same_ref_twice_returns_the_first_commission(shop):
    app, client, key, code, pid = shop
    call = {"product": pid, "saletotal": "50.00", "commtotal": "5.00", "ref": "order-1001"}
    first = api(client, key, code, commission=call)
    again = api(client, key, code, commission={**call, "commtotal": "9.00"})
    assert first.json["duplicate"] == "no" and again.json["duplicate"] == "yes"
    assert again.json["id"] == first.json["id"] and again.json["commtotal"] == "5.00"
    assert count_rows(app, Commission) == 1
    other_product = add_product(app, "Other")
    r = api(client, key, code, commission={**call, "product": other_product})
    assert r.json["duplicate"] == "no" and count_rows(app, Commission) == 2


def test_racing_duplicate_refs_make_one_commission(shop):
    app, _client, key, code, pid = shop
    call = {"apikey": key, "affiliate": code,
            "commission": {"product": pid, "saletotal": "20.00", "commtotal": "2.00",
                           "ref": "race-1"}}
    barrier = threading.Barrier(8, timeout=10)
    answers: list = []

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/api", json=call))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 8
    assert {a.status_code for a in answers} == {200}
    assert len({a.json["id"] for a in answers}) == 1
    assert sorted(a.json["duplicate"] for a in answers) == ["no"] + ["yes"] * 7
    assert count_rows(app, Commission) == 1


def test_refund_of_unpaid_commission_reverses_it(shop):
    app, client, key, code, pid = shop
    api(client, key, code, commission={"product": pid, "saletotal": "30.00",
                                       "commtotal": "3.00", "ref": "A1"})
    api(client, key, code, commission={"product": pid, "saletotal": "10.00",
                                       "commtotal": "1.00", "ref": "A2"})
    r = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "A1"})
    assert r.status_code == 200 and r.json["commission_status"] == "reversed"
    again = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "A1"})
    assert again.status_code == 200 and again.json["id"] == r.json["id"]
    assert _totals(client, key, code)[str(pid)] == {
        "commissions": "1", "sale_total": "10.00", "commission_total": "1.00",
        "last_commission": _totals(client, key, code)[str(pid)]["last_commission"]}
    assert count_rows(app, Commission) == 2


def test_chargeback_of_paid_commission_adds_a_negative_one(shop):
    app, client, key, code, pid = shop
    api(client, key, code, commission={"product": pid, "saletotal": "30.00",
                                       "commtotal": "3.00", "ref": "B1"})
    api(client, key, code, commission={"product": pid, "saletotal": "20.00",
                                       "commtotal": "2.00", "ref": "B2"})
    with app.app_context():
        affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == code))
        record_payment(affiliate, method="PayPal", amount="3.00")  # pays B1 only
    r = api(client, key, code, commission={"product": pid, "type": "chargeback", "ref": "B1"})
    assert r.status_code == 200 and r.json["commission_status"] == "approved"
    with app.app_context():
        negative = db.session.get(Commission, int(r.json["id"]))
        assert (negative.kind, negative.commission_total, negative.sale_total,
                negative.reversal_reason) == ("reversal", Decimal("-3.00"),
                                              Decimal("-30.00"), "chargeback")
    again = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "B1"})
    assert again.json["id"] == r.json["id"]
    assert count_rows(app, Commission) == 3
    totals = _totals(client, key, code)[str(pid)]
    assert (totals["commissions"], totals["sale_total"], totals["commission_total"]) == (
        "1", "20.00", "2.00")


def _pay(app, code: str, amount: str) -> int:
    with app.app_context():
        affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == code))
        return record_payment(affiliate, method="PayPal", amount=amount).id


def test_a_payout_settling_the_sale_while_its_refund_runs_is_clawed_back(shop):
    """The payout commits between the refund's read of the sale and its update: on SQLite,
    which has no row locks, the refund finds the sale paid only at its update. It must then
    claw the payout back, never answer ok leaving a refunded sale paid in full. (On
    PostgreSQL the payout waits on the sale's row lock instead, and pays nothing.)"""
    app, client, key, code, pid = shop
    api(client, key, code, commission={"product": pid, "saletotal": "30.00",
                                       "commtotal": "3.00", "ref": "R1"})
    payouts: list[threading.Thread] = []
    paid: list[int] = []

    def payout_first(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("UPDATE commissions SET status") and not payouts:
            payout = threading.Thread(target=lambda: paid.append(_pay(app, code, "3.00")))
            payouts.append(payout)
            payout.start()
            payout.join(2)  # PostgreSQL: still waiting for the sale's lock; goes on later

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", payout_first)
    try:
        r = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "R1"})
    finally:
        event.remove(engine, "before_cursor_execute", payout_first)
    payouts[0].join(30)
    assert r.status_code == 200 and paid
    with app.app_context():
        sale = db.session.scalar(select(Commission).where(Commission.kind == "sale"))
        twins = db.session.scalars(select(Commission).where(Commission.kind == "reversal")).all()
        if sale.payment_id is None:  # the refund went first (PostgreSQL)
            assert (sale.status, twins, r.json["commission_status"]) == (
                "reversed", [], "reversed")
        else:  # the payout went first (SQLite)
            assert sale.status == "approved"
            assert [(t.reverses_id, t.commission_total) for t in twins] == [
                (sale.id, Decimal("-3.00"))]
            assert r.json["id"] == str(twins[0].id)
    totals = _totals(client, key, code)
    assert totals.get(str(pid), {}).get("commission_total", "0.00") == "0.00"


def test_racing_refund_and_chargeback_of_a_paid_sale_claw_back_once(shop):
    app, _client, key, code, pid = shop
    api(app.test_client(), key, code, commission={"product": pid, "saletotal": "30.00",
                                                  "commtotal": "3.00", "ref": "R2"})
    _pay(app, code, "3.00")
    barrier = threading.Barrier(6, timeout=10)
    answers: list = []

    def reverse(kind: str) -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/api", json={
            "apikey": key, "affiliate": code,
            "commission": {"product": pid, "type": kind, "ref": "R2"}}))

    threads = [threading.Thread(target=reverse, args=(kind,))
               for kind in ["refund", "chargeback"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.json["id"] for a in answers}) == 1
    assert count_rows(app, Commission) == 2
    assert _totals(app.test_client(), key, code)[str(pid)]["commission_total"] == "0.00"


def test_refund_of_unknown_ref_is_an_error_and_writes_nothing(shop):
    app, client, key, code, pid = shop
    r = api(client, key, code, commission={"product": pid, "type": "refund", "ref": "nope"})
    assert r.status_code == 404 and r.json["status"] == "error"
    assert "no sale with ref 'nope'" in r.json["message"]
    assert count_rows(app, Commission) == 0


def test_product_rate_is_used_without_commtier_or_commtotal(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    code = add_affiliate(app)
    pid = add_product(app, commission_rate=Decimal("12.5"))
    r = api(app.test_client(), api_key, code,
            commission={"product": pid, "saletotal": "80.00"})
    assert r.json["commtotal"] == "10.00"


def test_a_payout_settles_oldest_first_and_stops_at_the_first_it_cannot_cover(shop):
    """README: "oldest first, as far as the amount covers them whole". A commission the payout
    cannot cover keeps every newer one unpaid too, even ones that would fit."""
    from tests.clickbank.support import run_cli

    app, client, key, code, pid = shop
    for ref, commission in [("A", "2.00"), ("B", "5.00"), ("C", "1.00")]:
        r = api(client, key, code, commission={"product": pid, "saletotal": "50.00",
                                                "commtotal": commission, "ref": ref})
        assert r.status_code == 200, r.json
    result = run_cli(app, "payment", "add", "--affiliate", code, "--method", "PayPal",
                     "--amount", "4.00")
    assert result.exit_code == 0, result.output
    with app.app_context():
        paid = {c.order_ref: c.payment_id is not None
                for c in db.session.scalars(select(Commission))}
    assert paid == {"A": True, "B": False, "C": False}


@pytest.mark.parametrize("reason", ["refund", "chargeback"])
def test_a_refund_reverses_the_sale_of_an_affiliate_disabled_or_unapproved_since(
        make_app, api_key, reason):
    """What a sale earned is taken back whatever the affiliate's state now: an affiliate
    disabled or awaiting approval since the sale does not keep its commission (ClickBank
    intake reverses in both cases too). New sales for them stay refused."""
    from affsrv.affiliates.services import set_approved, set_enabled

    app = make_app(commissions={"require_approval": False},
                   affiliates={"require_approval": True})
    client = app.test_client()
    unapproved, disabled = add_affiliate(app), add_affiliate(app)
    pid = add_product(app)
    with app.app_context():
        for code in (unapproved, disabled):
            set_approved(code, True)
    for code in (unapproved, disabled):
        r = api(client, api_key, code, commission={"product": pid, "saletotal": "40.00",
                                                   "commtotal": "4.00", "ref": "R1"})
        assert r.status_code == 200
    with app.app_context():
        set_approved(unapproved, False)
        set_enabled(disabled, False)
    for code in (unapproved, disabled):
        r = api(client, api_key, code, commission={"product": pid, "type": reason, "ref": "R1"})
        assert r.status_code == 200 and r.json["commission_status"] == "reversed", r.json
        refused = api(client, api_key, code, commission={"product": pid, "saletotal": "40.00",
                                                         "commtotal": "4.00", "ref": "R2"})
        assert refused.status_code == 403
    with app.app_context():
        statuses = db.session.scalars(select(Commission.status).order_by(Commission.id)).all()
    assert statuses == ["reversed", "reversed"]
