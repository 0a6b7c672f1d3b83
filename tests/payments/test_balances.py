"""What each affiliate has earned, has waiting and was paid (``balances``), who is owed enough
for a payout (``owed_at_least``), and a batch's refusal when it would pay more than is owed:
the figures behind the payouts page, the affiliates' pages and the payout batch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from affsrv.affiliates.services import get_affiliate, set_enabled
from affsrv.commissions.models import CommissionStatus
from affsrv.commissions.services import record_commission, reverse_commission, set_status
from affsrv.errors import DomainError
from affsrv.payments.services import (
    Balance,
    balances,
    owed_at_least,
    record_payment,
    record_payout_batch,
)
from affsrv.products.services import get_product
from tests.helpers import add_affiliate, add_product


@pytest.fixture
def app(make_app):
    return make_app(mail={"enabled": False})  # commissions wait for approval


def _commission(code: str, product: int, amount: str, ref: str, status: CommissionStatus,
                currency: str = "USD") -> None:
    recorded = record_commission(get_affiliate(code), get_product(product), Decimal("100.00"),
                                 Decimal(amount), order_ref=ref, currency=currency)
    if status != CommissionStatus.PENDING:
        set_status([recorded.commission.id], status)


def _ledger(app) -> tuple[int, dict[str, int]]:
    """ann: 20.00 approved, 2.50 + 1.25 pending, 4.00 rejected, 8.00 approved then refunded,
    50.00 approved in EUR (not the ledger's currency), 5.00 paid; bob: 7.00 pending; cy:
    nothing."""
    product = add_product(app)
    codes = ("ann", "bob", "cy")
    for code in codes:
        add_affiliate(app, code=code)
    with app.app_context():
        _commission("ann", product, "20.00", "a1", CommissionStatus.APPROVED)
        _commission("ann", product, "2.50", "a2", CommissionStatus.PENDING)
        _commission("ann", product, "1.25", "a3", CommissionStatus.PENDING)
        _commission("ann", product, "4.00", "a4", CommissionStatus.REJECTED)
        _commission("ann", product, "8.00", "a5", CommissionStatus.APPROVED)
        reverse_commission(get_affiliate("ann"), get_product(product), "a5", "refund")
        _commission("ann", product, "50.00", "a6", CommissionStatus.APPROVED, currency="EUR")
        record_payment(get_affiliate("ann"), method="PayPal", amount="5.00")
        _commission("bob", product, "7.00", "b1", CommissionStatus.PENDING)
        ids = {code: get_affiliate(code).id for code in codes}
    return product, ids


def test_each_affiliates_earned_pending_and_paid_in_the_ledger_currency(app):
    _, ids = _ledger(app)
    with app.app_context():
        everyone = balances()
        named = balances([ids["bob"], ids["cy"]])
    assert everyone == {
        ids["ann"]: Balance(ids["ann"], Decimal("20.00"), Decimal("3.75"), Decimal("5.00")),
        ids["bob"]: Balance(ids["bob"], Decimal("0.00"), Decimal("7.00"), Decimal("0.00")),
    }  # cy has neither a commission nor a payment
    assert everyone[ids["ann"]].owed == Decimal("15.00")
    assert named == {
        ids["bob"]: Balance(ids["bob"], Decimal("0.00"), Decimal("7.00"), Decimal("0.00")),
        ids["cy"]: Balance(ids["cy"], Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
    }


def test_owed_at_least_lists_enabled_affiliates_owed_the_minimum_or_more_most_first(app):
    product, ids = _ledger(app)  # ann is owed 15.00
    for code in ("dan", "eve", "fay"):
        add_affiliate(app, code=code)
    with app.app_context():
        _commission("dan", product, "30.00", "d1", CommissionStatus.APPROVED)
        _commission("eve", product, "40.00", "e1", CommissionStatus.APPROVED)
        _commission("fay", product, "15.00", "f1", CommissionStatus.APPROVED)
        set_enabled("eve", False)  # owed most, but disabled: not paid
        listed = [(a.code, b.owed) for a, b in owed_at_least(Decimal("15.00"))]
        above = [a.code for a, _ in owed_at_least(Decimal("15.01"))]
    # Owed exactly the minimum counts; of two owed as much, the older affiliate first.
    assert listed == [("dan", Decimal("30.00")), ("ann", Decimal("15.00")),
                      ("fay", Decimal("15.00"))]
    assert above == ["dan"]


def test_a_batch_is_not_held_up_by_another_affiliate_who_owes_money_back(app):
    """gus was paid, then his sale refunded: he owes 20.00 back (owed -20.00). A batch paying
    ann is recorded; one paying ann a cent more than she is owed, and bob (owed nothing, his
    commission pending) a cent, is refused naming both."""
    product, ids = _ledger(app)
    add_affiliate(app, code="gus")
    with app.app_context():
        _commission("gus", product, "20.00", "g1", CommissionStatus.APPROVED)
        record_payment(get_affiliate("gus"), method="PayPal", amount="20.00")
        reverse_commission(get_affiliate("gus"), get_product(product), "g1", "refund")
        assert balances([get_affiliate("gus").id])[get_affiliate("gus").id].owed == Decimal(
            "-20.00")
        with pytest.raises(DomainError) as refused:
            record_payout_batch({ids["bob"]: Decimal("0.01"), ids["ann"]: Decimal("15.01")},
                                "PayPal", "")
        assert (refused.value.status, refused.value.message) == (
            409, "payout batch: ann, bob would be paid more than is owed (a payout was recorded "
                 "meanwhile); nothing was recorded")
        assert balances([ids["ann"]])[ids["ann"]].paid == Decimal("5.00")
        made = record_payout_batch({ids["ann"]: Decimal("15.00")}, "PayPal", "batch-1")
        assert [(p.amount, p.reference) for p in made] == [(Decimal("15.00"), "batch-1")]
        assert balances([ids["ann"]])[ids["ann"]].owed == Decimal("0.00")
