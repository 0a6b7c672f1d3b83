"""``affsrv orders refresh``: what affsrv derives from orders loaded by other means."""

from datetime import UTC, datetime

from sqlalchemy import insert, select

from affsrv.cli import cli
from affsrv.extensions import db
from affsrv.orders import services
from affsrv.orders.models import Order

WHEN = datetime(2024, 3, 1, tzinfo=UTC)


def test_refresh_folds_the_search_copies_of_bulk_loaded_orders(app, ctx, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)  # several batches from a few orders
    db.session.add(Order(receipt="ORM", transaction_type="SALE", transaction_time=WHEN,
                         billing_last_name="Lee"))
    db.session.commit()
    # A Core insert, as a bulk import would do it: no ORM events, folded copies left blank.
    names = ["MÜLLER", "straße", "Ærø", "Lee", ""]
    db.session.execute(insert(Order), [
        {"receipt": f"BULK{n}", "transaction_type": "SALE", "transaction_time": WHEN,
         "billing_last_name": name, "billing_email": f"{name}@Example.com",
         "vendor": name.upper()}
        for n, name in enumerate(names)])
    db.session.commit()

    result = app.test_cli_runner().invoke(cli, ["orders", "refresh"])
    assert result.exit_code == 0, result.output
    # The five bulk orders (even the nameless one: its e-mail has a capital), not the ORM's.
    assert "5 order(s) updated: search copies" in result.output
    db.session.expire_all()
    folded = dict(db.session.execute(
        select(Order.receipt, Order.billing_last_name_folded)).all())
    assert folded == {"ORM": "lee", "BULK0": "müller", "BULK1": "strasse", "BULK2": "ærø",
                      "BULK3": "lee", "BULK4": ""}
    assert db.session.scalar(
        select(Order.billing_email_folded).where(Order.receipt == "BULK1")
    ) == "strasse@example.com"
    again = app.test_cli_runner().invoke(cli, ["orders", "refresh"])
    assert "0 order(s) updated: search copies" in again.output
