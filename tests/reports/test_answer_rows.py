"""The reports' answers are built in one pass per row (``schemas.RowsSchema``) and ordered by
the database (``services._grouped``): the same dicts as marshmallow's own dump, and the same
order as the documented one (gross, largest first, ties by key in code-point order)."""

from __future__ import annotations

import sys
from decimal import Decimal

from marshmallow import Schema
from marshmallow.fields import Field

from affsrv.reports import schemas
from affsrv.reports.services import AffiliateRow, SalesRow
from tests.clickbank.support import add_cb_account
from tests.reports.support import both, http_csv, report_key, store


def _marshmallows_own_dump(schema: Schema, rows: list) -> list[dict]:
    """The rows through marshmallow's generic per-field path (``Schema._serialize``), which
    ``RowsSchema`` replaces for lists."""
    return Schema._serialize(schema, rows, many=True)


def test_lean_dump_equals_marshmallows_own_for_every_kind_of_value():
    sales = [
        SalesRow("80202", "USD", 3, Decimal("180.00"), 1, Decimal("50.00"), 1,
                 Decimal("30.00"), Decimal("15.00")),
        SalesRow("x", "EUR", 0, Decimal("0.00"), 2, Decimal("10.00"), 0, Decimal("0.00"),
                 Decimal("-4.00")),  # refunds without orders: net -10.00, no refund rate
        # Amounts the services never give (not in cents) are formatted, not shown raw:
        SalesRow("y", "USD", 7, Decimal("7.5"), 0, Decimal("3"), 0, Decimal("1E+1"),
                 Decimal("0.125")),
        SalesRow("", "GBP", 9, Decimal("123456789.01"), 1, Decimal("0.01"), 0,
                 Decimal("-0.00"), Decimal("0.00")),
    ]
    dumped = schemas.sales_rows.dump(sales)
    assert dumped == _marshmallows_own_dump(schemas.sales_rows, sales)
    assert [(r["gross"], r["refund_amount"], r["chargeback_amount"], r["net"],
             r["commissions"], r["refund_rate"]) for r in dumped] == [
        ("180.00", "50.00", "30.00", "100.00", "15.00", "0.3333"),
        ("0.00", "10.00", "0.00", "-10.00", "-4.00", None),
        ("7.50", "3.00", "10.00", "-5.50", "0.12", "0.0000"),
        ("123456789.01", "0.01", "-0.00", "123456789.00", "0.00", "0.1111"),
    ]
    assert list(dumped[0]) == schemas.SALES_COLUMNS
    affiliates = [AffiliateRow("annie", "USD", 3, 1, Decimal("4.00")),
                  AffiliateRow("https://a.example/x", "USD", 5, None, None),  # by link
                  AffiliateRow("bob", "EUR", 0, 2, Decimal("1.00"))]
    dumped = schemas.affiliate_rows.dump(affiliates)
    assert dumped == _marshmallows_own_dump(schemas.affiliate_rows, affiliates)
    assert [(r["conversion_rate"], r["earnings_per_click"], r["sales"]) for r in dumped] == [
        ("0.3333", "1.3333", 1), (None, None, None), (None, None, 2)]
    csv_text = schemas.as_csv(dumped, schemas.AFFILIATE_COLUMNS)
    assert csv_text.split("\r\n")[2] == "https://a.example/x,5,,,,,USD"


def test_gross_ties_are_ordered_by_key_in_code_point_order(make_app):
    """The database orders the rows (gross, largest first, then key), as Python compares
    strings: upper case before ``_`` before lower case, whatever the database's collation."""
    app = make_app()
    add_cb_account(app)
    client, key = app.test_client(), report_key(app)
    for n, (postal, amount) in enumerate([("b1", "10.00"), ("_1", "10.00"), ("B1", "10.00"),
                                          ("a1", "10.00"), ("Z9", "25.00"), ("c1", "5.00")]):
        store(client, f"T{n}", "2026-03-02T10:00:00Z", amount, postal=postal)
    span = {"from": "2026-03-01", "to": "2026-03-31", "tz": "UTC"}
    rows = both(app, client, key, "sales", by="postal", **span)
    assert [(r["key"], r["gross"]) for r in rows] == [
        ("Z9", "25.00"), ("B1", "10.00"), ("_1", "10.00"), ("a1", "10.00"), ("b1", "10.00"),
        ("c1", "5.00")]
    assert [r["key"] for r in http_csv(client, key, "sales", by="postal", **span)] == [
        "Z9", "B1", "_1", "a1", "b1", "c1"]
    # The filtered report reads the wide rollups: the same order.
    filtered = both(app, client, key, "sales", by="postal", country="US", **span)
    assert [r["key"] for r in filtered] == ["Z9", "B1", "_1", "a1", "b1", "c1"]


def test_a_list_of_rows_skips_marshmallows_per_field_calls():
    """What made long answers slow: marshmallow's dump calls ``Field.serialize`` (and
    get_value, the accessor, ...) for every field of every row; a list of rows does not."""
    rows = [SalesRow(str(n), "USD", 1, Decimal("1.00"), 0, Decimal("0.00"), 0,
                     Decimal("0.00"), Decimal("0.10")) for n in range(50)]
    per_field = Field.serialize.__code__
    calls = []

    def watch(frame, event, arg):
        if event == "call" and frame.f_code is per_field:
            calls.append(frame)

    sys.setprofile(watch)
    try:
        dumped = schemas.sales_rows.dump(rows)
    finally:
        sys.setprofile(None)
    assert len(dumped) == 50 and calls == []
