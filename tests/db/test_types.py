"""Money stays exact and times stay UTC on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, literal, select, type_coerce

from affsrv.commissions.models import Commission
from affsrv.db.types import Money, Percent, to_money
from affsrv.extensions import db
from tests.helpers import add_affiliate, add_product


def test_to_money_rounds_half_up():
    assert to_money(Decimal("0.005")) == Decimal("0.01")
    assert to_money(Decimal("0.015")) == Decimal("0.02")
    assert to_money(Decimal("-0.005")) == Decimal("-0.01")


def test_sums_of_many_cents_are_exact(app):
    code = add_affiliate(app)
    pid = add_product(app)
    with app.app_context():
        from affsrv.affiliates.services import get_affiliate

        aid = get_affiliate(code).id
        rows = [{"affiliate_id": aid, "product_id": pid, "sale_total": Decimal("0.10"),
                 "commission_total": Decimal("0.01"), "status": "approved", "kind": "sale",
                 "currency": "USD", "source": "api", "ip": "", "notes": "",
                 "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)}
                for _ in range(1000)]
        db.session.execute(insert(Commission), rows)
        db.session.commit()
        total, comm = db.session.execute(select(
            type_coerce(func.sum(Commission.sale_total), Money()),
            type_coerce(func.sum(Commission.commission_total), Money()))).one()
        # 0.1 summed 1000 times as binary floats is 99.9999999999986
        assert (total, comm) == (Decimal("100.00"), Decimal("10.00"))
        assert isinstance(total, Decimal)
        stored = db.session.scalars(select(Commission.sale_total).limit(1)).one()
        assert stored == Decimal("0.10") and isinstance(stored, Decimal)


@pytest.mark.parametrize(("column", "sent", "back"), [
    (Money(), "0", "0.00"), (Money(), "0.01", "0.01"), (Money(), "-0.05", "-0.05"),
    (Money(), "12.3", "12.30"), (Money(), "-1245.76", "-1245.76"),
    (Money(), "999999999999.99", "999999999999.99"), (Money(), "0.005", "0.01"),
    (Percent(), "17.5", "17.500"), (Percent(), "0", "0.000"), (Percent(), "100", "100.000"),
])
def test_amounts_come_back_exact_with_their_places(app, column, sent, back):
    """Every value read is a Decimal with exactly the column's places (what the Data API
    prints), whichever way it is read: the ORM's conversion and the compiled reads' own."""
    with app.app_context():
        got = db.session.execute(select(literal(Decimal(sent), column))).scalar_one()
        assert isinstance(got, Decimal) and str(got) == back
        dialect = db.engine.dialect
        numeric = 1700 if dialect.name == "postgresql" else None  # the type the driver names
        processor = column.dialect_impl(dialect).result_processor(dialect, numeric)
        stored = column.process_bind_param(Decimal(sent), dialect)
        for convert in (processor, lambda v: column.process_result_value(v, dialect)):
            got = convert(stored) if convert is not None else stored
            assert isinstance(got, Decimal) and str(got) == back


def test_money_read_from_what_each_driver_gives(app):
    """The money column's own result processor, as every read uses it: on PostgreSQL from the
    Decimal psycopg gives for a NUMERIC, or from a float (a float8 expression's type), rounded
    half up to cents; on SQLite from the stored cents."""
    column = Money()
    with app.app_context():
        dialect = db.engine.dialect
        impl = column.dialect_impl(dialect)
        if dialect.name == "postgresql":
            from_numeric = impl.result_processor(dialect, 1700)
            from_float = impl.result_processor(dialect, 701)
            given = [(from_numeric, Decimal("12.345"), "12.35"),
                     (from_numeric, Decimal("-0.005"), "-0.01"),
                     (from_numeric, Decimal("7"), "7.00"),
                     (from_float, 0.1 + 0.2, "0.30"), (from_float, -2.5, "-2.50")]
        else:
            from_cents = impl.result_processor(dialect, None)
            given = [(from_cents, 1235, "12.35"), (from_cents, -1, "-0.01"),
                     (from_cents, 700, "7.00")]
        for processor, value, back in given:
            got = processor(value)
            assert isinstance(got, Decimal) and str(got) == back, (value, got)
        assert all(processor(None) is None for processor, _, _ in given)


def test_floats_are_refused_for_money(app):
    code = add_affiliate(app)
    pid = add_product(app)
    with app.app_context():
        from affsrv.affiliates.services import get_affiliate

        db.session.add(Commission(affiliate_id=get_affiliate(code).id, product_id=pid,
                                  sale_total=9.99, commission_total=Decimal("1")))
        with pytest.raises(Exception, match="floats are not accepted"):
            db.session.flush()
        db.session.rollback()


def test_times_come_back_as_utc_whatever_zone_went_in(app):
    code = add_affiliate(app)
    pid = add_product(app)
    local = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-7)))
    with app.app_context():
        from affsrv.affiliates.services import get_affiliate

        c = Commission(affiliate_id=get_affiliate(code).id, product_id=pid,
                       sale_total=Decimal("1"), commission_total=Decimal("0.1"),
                       created_at=local)
        db.session.add(c)
        db.session.commit()
        db.session.expire_all()
        back = db.session.get(Commission, c.id).created_at
        assert back == datetime(2026, 3, 1, 16, 30, tzinfo=UTC) and back.tzinfo == UTC
        with pytest.raises(Exception, match="naive datetime"):
            db.session.add(Commission(affiliate_id=1, product_id=pid, sale_total=Decimal("1"),
                                      commission_total=Decimal("0"),
                                      created_at=datetime(2026, 1, 1)))
            db.session.flush()
        db.session.rollback()


def test_unix_seconds_rounds_down_in_the_database(app):
    from datetime import UTC, datetime

    from sqlalchemy import select

    from affsrv.db.functions import unix_seconds
    from affsrv.extensions import db
    from affsrv.tracking.models import ReferralLink

    with app.app_context():
        at = datetime(2018, 9, 5, 16, 0, 0, 999999, tzinfo=UTC)
        db.session.add(ReferralLink(digest=b"x" * 32, url="", created_at=at))
        db.session.commit()
        seconds = db.session.scalar(select(unix_seconds(ReferralLink.created_at)))
    assert seconds == 1536163200


AMOUNTS = ["0", "0.01", "-0.01", "-0.05", "-0.5", "-1.50", "7", "1234.5", "-1234.56",
           "9999999999999999.99", "-9999999999999999.99"]


@pytest.mark.parametrize("amount", AMOUNTS)
def test_money_text_writes_an_amount_as_python_formats_its_decimal(app, amount):
    """The Data API's totals are formatted by the database: the same text, to the cent, as
    ``f"{amount:.2f}"`` of the stored Decimal, signs and the largest MoneySum included."""
    from affsrv.commissions.models import CommissionTotal
    from affsrv.db.functions import money_text

    value = Decimal(amount)
    with app.app_context():
        db.session.add(CommissionTotal(affiliate_id=1, currency="USD", product_id=1,
                                       commissions=1, sale_total=value, commission_total=value,
                                       approved_rows=1, last_at=datetime(2026, 1, 1, tzinfo=UTC)))
        db.session.flush()
        stored, text = db.session.execute(
            select(CommissionTotal.sale_total, money_text(CommissionTotal.sale_total))).one()
        db.session.rollback()
    assert stored == value
    assert text == f"{stored:.2f}" == f"{value:.2f}"


def test_money_text_refuses_what_is_not_cents():
    from affsrv.db.functions import money_text

    with pytest.raises(TypeError, match="two decimal places"):
        money_text(type_coerce(literal(1), Percent()))
    with pytest.raises(TypeError, match="two decimal places"):
        money_text(literal(1))
