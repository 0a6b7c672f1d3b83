"""``record_payout_batch`` called directly, as the admin page and any script would: the
refusals its callers rely on (the page checks the form before it, a script may not)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.payments.models import Payment
from affsrv.payments.services import record_payout_batch
from tests.helpers import add_affiliate


@pytest.fixture
def app(make_app):
    return make_app(commissions={"require_approval": False}, mail={"enabled": False})


def _payments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))


def test_a_batch_of_no_affiliate_is_refused(app):
    with app.app_context(), pytest.raises(DomainError) as refused:
        record_payout_batch({}, "PayPal", "")
    assert (refused.value.status, refused.value.message) == (
        400, "payout batch: choose at least one affiliate")
    assert _payments(app) == 0


def test_a_batch_naming_affiliates_that_do_not_exist_names_them_and_records_nothing(app):
    add_affiliate(app, code="ann")
    with app.app_context(), pytest.raises(DomainError) as refused:
        record_payout_batch({1: Decimal("1.00"), 9999: Decimal("1.00"), 9998: Decimal("2.00")},
                            "PayPal", "")
    assert (refused.value.status, refused.value.message) == (
        404, "no affiliate with id 9998, 9999")
    assert _payments(app) == 0
