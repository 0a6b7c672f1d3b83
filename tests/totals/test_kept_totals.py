"""The Data API's `commissions` and `payments` totals, read from rows kept by triggers,
answer exactly what summing the commissions and payments answers, whatever writes them."""

import re
from datetime import UTC, datetime

from sqlalchemy import text, update

from affsrv.affiliates.services import get_affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.models import Payment
from affsrv.payments.services import record_payment
from tests.helpers import add_affiliate, add_product, api
from tests.kept_totals import assert_kept_totals_match_rows

T1 = datetime(2018, 9, 5, 16, 0, tzinfo=UTC)  # 1536163200
T2 = datetime(2018, 9, 6, 16, 0, tzinfo=UTC)  # 1536249600


def _sell(client, key, code, product, ref, sale="40.00", comm="10.00"):
    r = api(client, key, code, commission={"product": product, "saletotal": sale,
                                           "commtotal": comm, "ref": ref})
    assert r.status_code == 200, r.json
    return int(r.json["id"])


def _at(app, commission_id, when):
    with app.app_context():
        db.session.execute(update(Commission).where(Commission.id == commission_id)
                           .values(created_at=when))
        db.session.commit()


def _commissions(client, key, code, **data):
    return api(client, key, code, data={"op": "commissions", **data}).json["data"]


def test_reversing_the_latest_sale_answers_the_latest_one_left(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    client, code, product = app.test_client(), add_affiliate(app), add_product(app)
    first = _sell(client, api_key, code, product, "o1")
    _at(app, first, T1)
    _at(app, _sell(client, api_key, code, product, "o2", "20.00", "5.00"), T2)
    assert _commissions(client, api_key, code) == {str(product): {
        "commissions": "2", "sale_total": "60.00", "commission_total": "15.00",
        "last_commission": "1536249600"}}
    r = api(client, api_key, code, commission={"product": product, "type": "refund",
                                               "ref": "o2"})
    assert r.json["commission_status"] == "reversed"
    expected = {str(product): {"commissions": "1", "sale_total": "40.00",
                               "commission_total": "10.00", "last_commission": "1536163200"}}
    assert _commissions(client, api_key, code) == expected
    assert _commissions(client, api_key, code, product=product) == expected
    api(client, api_key, code, commission={"product": product, "type": "chargeback",
                                           "ref": "o1"})
    assert _commissions(client, api_key, code) == {}  # no approved commission left
    assert_kept_totals_match_rows(app)


def test_a_paid_sale_and_its_negative_twin_answer_a_count_of_zero(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    client, code, product = app.test_client(), add_affiliate(app), add_product(app)
    _at(app, _sell(client, api_key, code, product, "o1"), T1)
    with app.app_context():
        record_payment(get_affiliate(code), method="PayPal", amount="10.00")
    r = api(client, api_key, code, commission={"product": product, "type": "refund",
                                               "ref": "o1"})
    with app.app_context():
        twin = db.session.get(Commission, int(r.json["id"]))
        assert twin.kind == "reversal"
        last = int(twin.created_at.timestamp())
    assert _commissions(client, api_key, code) == {str(product): {
        "commissions": "0", "sale_total": "0.00", "commission_total": "0.00",
        "last_commission": str(last)}}
    assert_kept_totals_match_rows(app)


def test_rows_changed_or_deleted_with_sql_change_the_totals_too(make_app, api_key):
    """An operator's SQL (or a migration) is a write like any other: the triggers follow it."""
    app = make_app()  # approval required: commissions come pending
    client, code, product = app.test_client(), add_affiliate(app), add_product(app)
    other = add_product(app, "Other")
    ids = [_sell(client, api_key, code, product, f"o{n}") for n in range(3)]
    assert _commissions(client, api_key, code) == {}
    with app.app_context():
        db.session.execute(update(Commission).values(status="approved", created_at=T1))
        db.session.execute(update(Commission).where(Commission.id == ids[0])
                           .values(product_id=other, created_at=T2, sale_total="1.50"))
        record_payment(get_affiliate(code), method="Stripe", amount="3.90")
        record_payment(get_affiliate(code), method="Stripe", amount="1.10")
        db.session.execute(update(Payment).values(created_at=T1))
        db.session.commit()
    assert _commissions(client, api_key, code) == {
        str(product): {"commissions": "2", "sale_total": "80.00",
                       "commission_total": "20.00", "last_commission": "1536163200"},
        str(other): {"commissions": "1", "sale_total": "1.50",
                     "commission_total": "10.00", "last_commission": "1536249600"}}
    assert api(client, api_key, code, data={"op": "payments"}).json["data"] == {
        "Stripe": {"payments": "2", "payment_total": "5.00", "last_payment": "1536163200"}}
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE commissions SET payment_id = NULL"))
        conn.execute(text("DELETE FROM commissions WHERE id = :id"), {"id": ids[0]})
        conn.execute(text("DELETE FROM payments"))
    assert set(_commissions(client, api_key, code)) == {str(product)}
    assert api(client, api_key, code, data={"op": "payments"}).json["data"] == {}
    assert_kept_totals_match_rows(app)


def _sample_value(parameter: re.Match) -> str:
    """A value for a statement's parameter: 1 for an id, the ledger currency, 0 otherwise
    (the statements' own constants)."""
    return {"affiliate_id": "1", "currency": "'USD'", "product_id": "1"}.get(parameter[1], "0")


def test_the_ops_read_the_kept_rows_by_primary_key(app):
    """However many commissions and payments an affiliate has, an op reads its few totals
    rows from the primary key's b-tree (SQLite: the table itself, WITHOUT ROWID)."""
    from affsrv.commissions.services import _TOTALS, _TOTALS_FOR_PRODUCT
    from affsrv.payments.services import _TOTALS as _PAYMENT_TOTALS

    with app.app_context(), db.engine.connect() as conn:
        for statement, table in ((_TOTALS, "commission_totals"),
                                 (_TOTALS_FOR_PRODUCT, "commission_totals"),
                                 (_PAYMENT_TOTALS, "payment_totals")):
            sql = str(statement.compile(dialect=conn.dialect))
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")
                sql = re.sub(r"%\((\w+)\)s", _sample_value, sql)
                plan = " ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
                assert f"Index Scan using pk_{table}" in plan, plan
            else:
                plan = [row[-1] for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql, (1, "USD", 0, 1)[:sql.count("?")])]
                assert plan[0].startswith(f"SEARCH {table} USING PRIMARY KEY (affiliate_id=? "
                                          "AND currency=?"), plan


def test_totals_hold_sums_wider_than_any_one_amount(make_app, api_key):
    """Each amount fits 12 digits before the point; their kept sum need not (PostgreSQL
    refused the write with a numeric overflow when totals had an amount's width)."""
    app = make_app(commissions={"require_approval": False})
    client, code, product = app.test_client(), add_affiliate(app), add_product(app)
    ids = [_sell(client, api_key, code, product, f"o{n}") for n in range(3)]
    with app.app_context():
        db.session.execute(update(Commission).values(sale_total="999999999999.99",
                                                     commission_total="999999999999.99",
                                                     created_at=T1))
        for _ in range(3):
            record_payment(get_affiliate(code), method="Wire", amount="999999999999.99")
        db.session.commit()
    assert len(ids) == 3
    assert _commissions(client, api_key, code)[str(product)] == {
        "commissions": "3", "sale_total": "2999999999999.97",
        "commission_total": "2999999999999.97", "last_commission": "1536163200"}
    assert api(client, api_key, code, data={"op": "payments"}).json["data"]["Wire"][
        "payment_total"] == "2999999999999.97"
    assert_kept_totals_match_rows(app)
