"""POST /ins/clickbank/<account>: every version and type stored whole; refusals answered 400."""

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from affsrv.clickbank.models import InsNotification
from affsrv.clickbank.services import remove_account
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.orders.models import Order
from tests.clickbank.support import (
    ACCOUNT,
    SECRET,
    add_cb_account,
    encrypt,
    notification,
    post_ins,
)
from tests.helpers import log_records

ALL_TYPES = [
    "SALE", "BILL", "RFND", "CGBK", "INSF", "CANCEL-REBILL", "UNCANCEL-REBILL",
    "SUBSCRIPTION-CHG", "ABANDONED_ORDER", "CUSTOMER_AUTH_FAILURE", "CUSTOMER_EMAIL_UPDATE",
    "CUSTOMER_UPDATE_CC_NOTIFICATION", "PURCHASE_DETAILS_EMAIL_RESPONSE", "TEST", "TEST_SALE",
    "TEST_BILL", "TEST_RFND", "CANCEL-TEST-REBILL", "UNCANCEL-TEST-REBILL", "SOMETHING_NEW",
]


@pytest.fixture
def cb(make_app):
    app = make_app(commissions={"require_approval": False})
    add_cb_account(app)
    return app


def _orders(app):
    with app.app_context():
        return list(db.session.scalars(
            select(Order).options(selectinload(Order.line_items)).order_by(Order.id)))


def test_sale_is_stored_with_every_field(cb):
    r = post_ins(cb.test_client(), notification())
    assert r.status_code == 200 and r.text.strip() == "stored"
    with cb.app_context():
        order = db.session.scalar(select(Order))
        assert order.source == "clickbank" and order.account == ACCOUNT
        assert (order.receipt, order.transaction_type, order.vendor, order.role) == (
            "ABCD1234", "SALE", ACCOUNT, "VENDOR")
        assert (order.total_order_amount, order.total_account_amount,
                order.total_tax_amount, order.total_shipping_amount) == (
            Decimal("49.95"), Decimal("40.05"), Decimal("0.00"), Decimal("5.00"))
        assert (order.currency, order.payment_method, order.order_language) == (
            "USD", "VISA", "EN")
        # 14:30 at -05:00 is 19:30 UTC; the zone is kept as an offset.
        assert order.transaction_time == datetime(2024, 3, 5, 19, 30, tzinfo=UTC)
        assert order.utc_offset_minutes == -300
        assert order.tracking_codes == ["fb-ads", "spring"]
        assert order.vendor_variables == {"v1": "campaign-7", "tid": "abc"}
        assert not order.is_test
        assert (order.billing_first_name, order.billing_last_name, order.billing_full_name,
                order.billing_email, order.billing_address1, order.billing_city,
                order.billing_state, order.billing_postal_code, order.billing_country) == (
            "Mary", "Major", "Mary Major", "mary@billing.example", "9 Bill Ave", "Denver",
            "CO", "80202", "US")
        assert (order.shipping_full_name, order.shipping_email, order.shipping_address1,
                order.shipping_address2, order.shipping_city, order.shipping_county,
                order.shipping_state, order.shipping_postal_code, order.shipping_country,
                order.shipping_phone) == (
            "Mary Major", "mary@buyer.example", "1 Ship St", "Apt 2", "Boise", "Ada", "ID",
            "83702", "US", "+1 555 0100")
        [item] = order.line_items
        assert (item.item_no, item.product_title, item.shippable, item.recurring,
                item.quantity, item.line_item_type, item.product_price, item.account_amount,
                item.shipping_amount, item.affiliate_payout, item.download_url) == (
            "WIDGET-1", "The Widget Course", True, False, 1, "ORIGINAL", Decimal("49.95"),
            Decimal("40.05"), Decimal("5.00"), Decimal("12.00"), "https://dl.example/w")
        assert order.shippable
        stored = db.session.scalar(select(InsNotification))
        raw = json.loads(stored.raw)
        # Stored whole: fields affsrv does not model are kept.
        assert raw["upsell"] == {"upsellOriginalReceipt": "", "upsellFlowId": 0}
        assert raw["hopfeed"] == {"hopfeedClickId": "h1"}
        assert (stored.receipt, stored.transaction_type, stored.version,
                stored.attempt_count, stored.order_id, stored.account) == (
            "ABCD1234", "SALE", "6.0", 1, order.id, ACCOUNT)


@pytest.mark.parametrize("version", [6.0, 7.0, 8.0])
def test_every_version_is_stored(cb, version):
    extra = {"commonTrackingParameters": {"clickId": "c1", "device": "mobile"}}
    doc = notification(version=version, receipt=f"V{int(version)}", **extra)
    assert post_ins(cb.test_client(), doc).status_code == 200
    with cb.app_context():
        stored = db.session.scalar(select(InsNotification))
        assert stored.version == f"{version:.1f}"
        assert json.loads(stored.raw)["commonTrackingParameters"]["device"] == "mobile"


def test_basic_iso_time_form(cb):
    doc = notification(transactionTime="20220810T162015-0700")
    assert post_ins(cb.test_client(), doc).status_code == 200
    [order] = _orders(cb)
    assert order.transaction_time == datetime(2022, 8, 10, 23, 20, 15, tzinfo=UTC)
    assert order.utc_offset_minutes == -420


@pytest.mark.parametrize("kind", ALL_TYPES)
def test_every_type_is_stored_and_acknowledged(cb, kind):
    doc = notification(transactionType=kind, receipt="T1")
    r = post_ins(cb.test_client(), doc)
    assert r.status_code == 200, r.text
    [order] = _orders(cb)
    assert order.transaction_type == kind
    assert order.is_test == ("TEST" in kind)


def test_nulls_empty_address_and_no_line_items_are_accepted(cb):
    doc = notification(affiliate=None, trackingCodes=None, vendorVariables=None, lineItems=[],
                       customer={"shipping": {"address": {}}, "billing": None})
    assert post_ins(cb.test_client(), doc).status_code == 200
    [order] = _orders(cb)
    assert order.affiliate_nickname == "" and order.line_items == []
    assert order.shipping_country == "" and order.billing_email == ""


def _reason(app, response) -> str:
    """Every refusal is answered alike (a reason would tell a forger which step failed): the
    reason is the one commission.log gives."""
    assert (response.status_code, response.data) == (400, b"rejected\n")
    return log_records(app, "commission")[-1]["reason"]


def test_unknown_account_is_400_and_logged(cb):
    r = post_ins(cb.test_client(), notification(), account="someoneelse")
    assert "unknown account 'someoneelse'" in _reason(cb, r)
    assert _orders(cb) == []
    [entry] = log_records(cb, "commission")
    assert entry["event"] == "ins notification refused" and "unknown account" in entry["reason"]


def test_removed_account_is_refused(cb):
    with cb.app_context():
        remove_account(ACCOUNT)
    assert "unknown account" in _reason(cb, post_ins(cb.test_client(), notification()))


def test_wrong_key_is_400(cb):
    r = post_ins(cb.test_client(), notification(), secret="WRONGKEY99")
    assert "wrong secret key" in _reason(cb, r)
    assert _orders(cb) == []
    assert SECRET not in Path(cb.config["AFFSRV"]["logs"]["dir"], "commission.log").read_text()


def test_truncated_body_is_400(cb):
    body = encrypt(notification())
    raw = base64.b64decode(body["notification"])
    truncated = {"notification": base64.b64encode(raw[:-5]).decode(), "iv": body["iv"]}
    r = cb.test_client().post(f"/ins/clickbank/{ACCOUNT}", json=truncated)
    assert "truncated" in _reason(cb, r)
    # Whole blocks missing: the padding no longer checks out.
    cut = {"notification": base64.b64encode(raw[:-16]).decode(), "iv": body["iv"]}
    assert "bad padding" in _reason(cb, cb.test_client().post(f"/ins/clickbank/{ACCOUNT}",
                                                              json=cut))


def test_non_base64_body_is_400(cb):
    body = encrypt(notification())
    bad = {"notification": "%%%not base64%%%", "iv": body["iv"]}
    assert "not valid base64" in _reason(
        cb, cb.test_client().post(f"/ins/clickbank/{ACCOUNT}", json=bad))
    bad_iv = {"notification": body["notification"], "iv": base64.b64encode(b"short").decode()}
    assert "16 bytes" in _reason(
        cb, cb.test_client().post(f"/ins/clickbank/{ACCOUNT}", json=bad_iv))


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "body is not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"iv": "AAAAAAAAAAAAAAAAAAAAAA=="}', "notification is missing"),
    (b"", "body is not JSON"),
])
def test_bad_json_body_is_400(cb, body, reason):
    r = cb.test_client().post(f"/ins/clickbank/{ACCOUNT}", data=body,
                              content_type="application/json")
    assert reason in _reason(cb, r)
    assert reason in log_records(cb, "commission")[-1]["reason"]


def test_decrypted_text_that_is_not_json_is_400(cb):
    r = post_ins(cb.test_client(), "this is not json")
    assert "not JSON" in _reason(cb, r)


@pytest.mark.parametrize("changes, reason", [
    ({"receipt": None}, "receipt"),
    ({"transactionType": ""}, "transactionType"),
    ({"transactionTime": "yesterday"}, "transactionTime"),
    ({"totalOrderAmount": "lots"}, "totalOrderAmount"),
    ({"receipt": "R" * 65}, "receipt"),
])
def test_unusable_notification_is_400(cb, changes, reason):
    assert reason in _reason(cb, post_ins(cb.test_client(), notification(**changes)))
    assert _orders(cb) == []


def test_test_sale_is_never_counted(cb):
    from tests.helpers import add_affiliate, add_product

    code = add_affiliate(cb, code="annie")
    add_product(cb, sku="WIDGET-1", commission_rate=Decimal("10"))
    r = post_ins(cb.test_client(), notification(transactionType="TEST_SALE", affiliate=code))
    assert r.status_code == 200
    with cb.app_context():
        assert db.session.scalar(select(func.count(Commission.id))) == 0
        assert db.session.scalar(select(Order)).is_test


def test_nul_characters_cannot_break_storage(cb):
    doc = notification(vendor="ven\u0000dor", customer={"billing": {"fullName": "A\u0000B"}})
    assert post_ins(cb.test_client(), doc).status_code == 200
    [order] = _orders(cb)
    assert (order.vendor, order.billing_full_name) == ("vendor", "AB")


def test_unpaired_surrogates_cannot_break_storage(cb):
    """JSON may escape half of a UTF-16 pair (\\ud800) that no database can store as text:
    each becomes U+FFFD, wherever it is, and a whole pair stays the character it encodes."""
    doc = notification(
        vendor="ven\ud800dor", trackingCodes=["t\udc00"],
        customer={"billing": {"fullName": "A\ud83d\ude00B", "firstName": "\udfff"}},
        vendorVariables={"k\ud800": "v\udbff"},
    )
    doc["lineItems"][0]["productTitle"] = "Wid\ud800get"
    assert post_ins(cb.test_client(), doc).status_code == 200
    [order] = _orders(cb)
    assert (order.vendor, order.billing_full_name, order.billing_first_name) == (
        "ven\ufffddor", "A\U0001f600B", "\ufffd")
    assert order.tracking_codes == ["t\ufffd"]
    assert order.vendor_variables == {"k\ufffd": "v\ufffd"}
    assert order.line_items[0].product_title == "Wid\ufffdget"


@pytest.mark.parametrize("field, value, reason", [
    # Numbers far past decimal's exponent limit: a 400 naming the field, not a 500, and no
    # billion-character text written out for a text field.
    ("totalOrderAmount", "1E+1000000", "totalOrderAmount: must be a finite amount"),
    ("totalAccountAmount", "-1E+999999999", "totalAccountAmount: must be a finite amount"),
    ("receipt", "1E+999999999", "receipt: must be a string"),
    ("vendor", "1E-999999999", "vendor: must be a string"),
    # A count is bounded before it becomes an int (a million-digit int took 23 s to build),
    # and infinity is no count (int() raised OverflowError: a 500).
    ("attemptCount", "1E+999999", "attemptCount: must be a whole number from 0"),
    ("attemptCount", '"Infinity"', "attemptCount: must be a whole number from 0"),
    ("attemptCount", '"-Infinity"', "attemptCount: must be a whole number from 0"),
])
def test_a_number_past_decimals_limits_is_400(cb, field, value, reason):
    document = json.dumps(notification(**{field: "@@"})).replace('"@@"', value)
    assert reason in _reason(cb, post_ins(cb.test_client(), document))
    assert _orders(cb) == []
