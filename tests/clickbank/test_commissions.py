"""What INS transactions do to commissions, seen through the Data API."""

from decimal import Decimal

import pytest
from click.testing import Result
from sqlalchemy import select

from affsrv.affiliates.services import get_affiliate
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.extensions import db
from affsrv.payments.services import record_payment
from tests.clickbank.support import add_cb_account, notification, post_ins, run_cli
from tests.helpers import add_affiliate, add_product, api


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    add_cb_account(app)
    return app


def _commissions(app):
    with app.app_context():
        return list(db.session.scalars(select(Commission).order_by(Commission.id)))


def _totals(app, key, code):
    r = api(app.test_client(), key, code, data={"op": "commissions"})
    assert r.status_code == 200, r.json
    return {pid: {k: v for k, v in t.items() if k != "last_commission"}
            for pid, t in r.json["data"].items()}


def test_sale_then_refund_leaves_data_api_totals_right(cb, api_key):
    code = add_affiliate(cb, code="annie")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    assert post_ins(client, notification(affiliate="annie")).status_code == 200
    # 20% of the 49.95 product price.
    assert _totals(cb, api_key, code) == {str(pid): {
        "commissions": "1", "sale_total": "49.95", "commission_total": "9.99"}}
    refund = notification(affiliate="annie", transactionType="RFND", totalOrderAmount=-49.95,
                          totalAccountAmount=-40.05)
    assert post_ins(client, refund).status_code == 200
    assert _totals(cb, api_key, code) == {}
    [sale] = _commissions(cb)
    assert sale.status == CommissionStatus.REVERSED and sale.reversal_reason == "refund"
    assert sale.source == "clickbank" and sale.order_ref == "ABCD1234"


def test_chargeback_of_a_paid_commission_claws_it_back(cb, api_key):
    code = add_affiliate(cb, code="annie")
    pid = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    post_ins(client, notification(affiliate="annie"))
    with cb.app_context():
        record_payment(get_affiliate(code), method="PayPal", amount="9.99")
    assert post_ins(client, notification(affiliate="annie", transactionType="CGBK")
                    ).status_code == 200
    assert _totals(cb, api_key, code) == {str(pid): {
        "commissions": "0", "sale_total": "0.00", "commission_total": "0.00"}}
    sale, clawback = _commissions(cb)
    assert clawback.kind == CommissionKind.REVERSAL and clawback.reversal_reason == "chargeback"
    assert clawback.commission_total == Decimal("-9.99")


def test_insf_reverses_like_a_chargeback(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    post_ins(client, notification(affiliate="annie"))
    post_ins(client, notification(affiliate="annie", transactionType="INSF"))
    [sale] = _commissions(cb)
    assert sale.status == CommissionStatus.REVERSED and sale.reversal_reason == "chargeback"


def test_commtier_wins_then_rate_then_affiliate_payout(cb):
    add_affiliate(cb, code="tier", commtier=Decimal("50"))
    add_affiliate(cb, code="plain")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    add_product(cb, name="No rate", sku="NORATE")
    client = cb.test_client()
    post_ins(client, notification(affiliate="tier", receipt="R1"))
    post_ins(client, notification(affiliate="plain", receipt="R2"))
    no_rate = notification(affiliate="plain", receipt="R3")
    no_rate["lineItems"][0]["itemNo"] = "NORATE"
    post_ins(client, no_rate)
    amounts = [c.commission_total for c in _commissions(cb)]
    # 50% of 49.95; 10% of 49.95; the notification's affiliatePayout 12.00.
    assert amounts == [Decimal("24.98"), Decimal("5.00"), Decimal("12.00")]


def test_clickbank_alias_set_with_the_cli_matches(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    result: Result = run_cli(cb, "affiliate", "alias", "annie", "--clickbank", "annCB77")
    assert result.exit_code == 0, result.output
    assert "anncb77" in result.output  # stored as ClickBank shows it: in lower case
    post_ins(cb.test_client(), notification(affiliate="annCB77"))
    [commission] = _commissions(cb)
    with cb.app_context():
        assert commission.affiliate_id == get_affiliate("annie").id


@pytest.mark.parametrize("sent", ["anncb77", "ANNCB77", "AnnCb77"])
def test_an_alias_matches_whatever_case_clickbank_sends(cb, sent):
    """ClickBank's nicknames ignore case (it sends them in lower case): an alias typed with
    capitals must still credit the affiliate."""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    result: Result = run_cli(cb, "affiliate", "alias", "annie", "--clickbank", " annCB77 ")
    assert result.exit_code == 0 and "ClickBank affiliate anncb77" in result.output
    post_ins(cb.test_client(), notification(affiliate=sent))
    [commission] = _commissions(cb)
    with cb.app_context():
        assert commission.affiliate_id == get_affiliate("annie").id


def test_aliases_differing_only_in_case_are_one_nickname(cb):
    add_affiliate(cb, code="annie")
    add_affiliate(cb, code="bea")
    assert run_cli(cb, "affiliate", "alias", "annie", "--clickbank", "Nick1").exit_code == 0
    clash = run_cli(cb, "affiliate", "alias", "bea", "--clickbank", "NICK1")
    assert clash.exit_code == 1 and "already has ClickBank nickname 'nick1'" in clash.output


def test_alias_wins_over_a_code_with_the_same_name(cb):
    add_affiliate(cb, code="bob")
    add_affiliate(cb, code="carol", clickbank_nickname=None)
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert run_cli(cb, "affiliate", "alias", "carol", "--clickbank", "bob").exit_code == 0
    # The same nickname cannot be given to two affiliates.
    clash = run_cli(cb, "affiliate", "alias", "bob", "--clickbank", "bob")
    assert clash.exit_code == 1 and "already has" in clash.output
    post_ins(cb.test_client(), notification(affiliate="bob"))
    [commission] = _commissions(cb)
    with cb.app_context():
        assert commission.affiliate_id == get_affiliate("carol").id


def test_rebill_earns_its_own_commission_and_a_refund_reverses_it(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    client = cb.test_client()
    post_ins(client, notification(affiliate="annie"))
    post_ins(client, notification(affiliate="annie", transactionType="BILL"))
    sale, rebill = _commissions(cb)
    assert (sale.order_ref, rebill.order_ref) == ("ABCD1234", "ABCD1234/BILL")
    post_ins(client, notification(affiliate="annie", transactionType="RFND"))
    sale, rebill = _commissions(cb)
    assert rebill.status == CommissionStatus.REVERSED
    assert sale.status == CommissionStatus.APPROVED


def test_no_commission_without_matching_affiliate_or_product(cb):
    """(An account that creates products for unknown SKUs: tests/clickbank/test_unknown_skus.)"""
    add_affiliate(cb, code="annie")
    add_product(cb, sku="OTHER", commission_rate=Decimal("10"))
    assert run_cli(cb, "account", "set", "myvendor", "--unknown-skus", "refuse").exit_code == 0
    client = cb.test_client()
    assert post_ins(client, notification(affiliate="nobody", receipt="R1")).status_code == 200
    assert post_ins(client, notification(affiliate="annie", receipt="R2")).status_code == 200
    assert _commissions(cb) == []


def test_refund_without_a_sale_is_stored_and_acknowledged(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    r = post_ins(cb.test_client(), notification(affiliate="annie", transactionType="RFND"))
    assert r.status_code == 200 and _commissions(cb) == []


def test_disabled_affiliate_gets_nothing_but_the_order_is_stored(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    assert run_cli(cb, "affiliate", "disable", "annie").exit_code == 0
    r = post_ins(cb.test_client(), notification(affiliate="annie"))
    assert r.status_code == 200 and _commissions(cb) == []


def test_multi_item_order_counts_each_item_in_one_transaction(cb):
    add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    add_product(cb, name="Bump", sku="BUMP-1", commission_rate=Decimal("50"))
    doc = notification(affiliate="annie")
    doc["lineItems"].append({**doc["lineItems"][0], "itemNo": "BUMP-1", "productPrice": 10.00,
                             "lineItemType": "BUMP"})
    assert post_ins(cb.test_client(), doc).status_code == 200
    assert [c.commission_total for c in _commissions(cb)] == [Decimal("5.00"), Decimal("5.00")]


def test_refund_arriving_before_its_sale_still_reverses_it(cb, api_key):
    code = add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    client = cb.test_client()
    assert post_ins(client, notification(affiliate="annie", transactionType="RFND")
                    ).status_code == 200
    assert post_ins(client, notification(affiliate="annie", attemptCount=3)).status_code == 200
    assert _totals(cb, api_key, code) == {}
    [sale] = _commissions(cb)
    assert sale.status == CommissionStatus.REVERSED and sale.reversal_reason == "refund"


def test_a_refund_of_one_cart_item_arriving_before_the_sale_reverses_only_that_item(cb, api_key):
    """ClickBank retries a failed SALE hours later; meanwhile the buyer was refunded the bump
    only. When the sale arrives, the bump's commission is reversed at once, the main item's
    stands."""
    code = add_affiliate(cb, code="annie")
    widget = add_product(cb, sku="WIDGET-1", commission_rate=Decimal("20"))
    add_product(cb, name="Bump", sku="BUMP-1", commission_rate=Decimal("50"))
    sale = notification(affiliate="annie")
    sale["lineItems"].append({**sale["lineItems"][0], "itemNo": "BUMP-1", "productPrice": 10.00,
                              "lineItemType": "BUMP"})
    refund = notification(affiliate="annie", transactionType="RFND", totalOrderAmount=-10.00,
                          lineItems=[sale["lineItems"][1]])
    client = cb.test_client()
    assert post_ins(client, refund).status_code == 200
    assert post_ins(client, {**sale, "attemptCount": 2}).status_code == 200
    assert {c.notes.split()[-1]: c.status for c in _commissions(cb)} == {
        "WIDGET-1": CommissionStatus.APPROVED, "BUMP-1": CommissionStatus.REVERSED}
    assert _totals(cb, api_key, code) == {str(widget): {
        "commissions": "1", "sale_total": "49.95", "commission_total": "9.99"}}
