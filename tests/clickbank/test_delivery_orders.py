"""Seeded random sequences of ClickBank notifications for one customer's receipts (a cart
sale, partial and full refunds, chargebacks, rebills, retries, a test sale) in any order, as
ClickBank's retries can deliver them: whatever the order, each earning line item has one
commission, reversed exactly when a refund or chargeback of that receipt named that item; and
after every notification the kept totals rows equal sums of the rows made afresh.
``INS_WALKS=300`` runs more seeds."""

import os
import random
from decimal import Decimal

import pytest
from sqlalchemy import select

from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from tests.clickbank.support import add_cb_account, notification, post_ins
from tests.helpers import add_affiliate, add_product
from tests.kept_totals import assert_kept_totals_match_rows

PRICES = {"W": 49.95, "B": 10.00}  # item numbers are the products' SKUs
EARNING, REVERSING = ("SALE", "BILL"), ("RFND", "CGBK", "INSF")
# (transactionType, receipt, line items); rebills have receipts of their own.
NOTIFICATIONS = [
    ("SALE", "R1", ("W", "B")), ("RFND", "R1", ("B",)), ("RFND", "R1", ("W",)),
    ("CGBK", "R1", ("W", "B")), ("BILL", "R1-B002", ("W",)), ("RFND", "R1-B002", ("W",)),
    ("BILL", "R1-B003", ("W",)), ("SALE", "R2", ("W",)), ("CGBK", "R2", ("W",)),
    ("INSF", "R2", ("W",)), ("TEST_SALE", "R3", ("W",)),
]


def _line_item(item_no: str) -> dict:
    return {**notification()["lineItems"][0], "itemNo": item_no,
            "productPrice": PRICES[item_no]}


@pytest.mark.parametrize("seed", range(int(os.environ.get("INS_WALKS", "20"))))
def test_commissions_do_not_depend_on_delivery_order(make_app, seed):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    add_affiliate(app, code="annie")
    add_product(app, sku="W", commission_rate=Decimal("20"))
    add_product(app, name="Bump", sku="B", commission_rate=Decimal("50"))
    client = app.test_client()
    rng = random.Random(seed)
    earned, reversed_, sent = set(), set(), []
    for kind, receipt, items in rng.choices(NOTIFICATIONS, k=rng.randint(1, 12)):
        sent.append(f"{kind} {receipt} {'+'.join(items)}")
        r = post_ins(client, notification(
            affiliate="annie", transactionType=kind, receipt=receipt,
            lineItems=[_line_item(i) for i in items], attemptCount=rng.randint(1, 3)))
        assert r.status_code == 200, (sent, r.data)
        assert_kept_totals_match_rows(app)
        keys = {(receipt, i) for i in items}
        if kind in EARNING:
            earned |= keys
        elif kind in REVERSING:
            reversed_ |= keys
    with app.app_context():
        commissions = list(db.session.scalars(select(Commission)))
    assert all(c.kind == CommissionKind.SALE for c in commissions), sent  # nothing was paid
    # notes end with the item number: "ClickBank SALE R1 item W"
    got = {(c.order_ref.removesuffix("/BILL"), c.notes.split()[-1]): c.status
           for c in commissions}
    assert len(got) == len(commissions), sent
    assert got == {key: CommissionStatus.REVERSED if key in reversed_
                   else CommissionStatus.APPROVED for key in earned}, sent
