"""The cryptography against ClickBank's real notification and round trips."""

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from affsrv.clickbank.crypto import (
    InsCryptoError,
    decrypt_envelope,
    derive_key,
    dumps_exact,
    encrypt_payload,
)
from affsrv.clickbank.models import InsNotification
from affsrv.extensions import db
from affsrv.orders.models import Order
from tests.clickbank.support import add_cb_account

VECTOR = json.loads((Path(__file__).parent / "ins-vector-v6-sale.json").read_text())


def test_reference_vector_decrypts_to_its_stated_fields():
    plain = json.loads(decrypt_envelope(VECTOR["body"], VECTOR["secret_key"]),
                       parse_float=Decimal)
    assert plain["transactionType"] == "SALE"
    assert plain["vendor"] == "TestVendorNickname"
    assert plain["totalOrderAmount"] == Decimal("1.0")
    assert str(plain["version"]) == "6.0"
    assert plain["transactionTime"] == "2023-07-28T02:07:57+00:00"


def test_reference_vector_through_http_is_stored(make_app):
    app = make_app()
    add_cb_account(app, "testvendornickname", VECTOR["secret_key"])
    r = app.test_client().post("/ins/clickbank/TestVendorNickname", json=VECTOR["body"])
    assert r.status_code == 200, r.text
    assert r.text.strip() == "stored"
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert (order.transaction_type, order.vendor, order.total_order_amount,
                order.payment_method, order.account) == (
            "SALE", "TestVendorNickname", Decimal("1.00"), "VISA", "testvendornickname")
        assert order.transaction_time == datetime(2023, 7, 28, 2, 7, 57, tzinfo=UTC)
        assert [i.item_no for i in order.line_items] == ["1"]
        assert order.billing_email == "testuser@somesite.com"
        stored = db.session.scalar(select(InsNotification))
        assert stored.version == "6.0" and stored.order_id == order.id
        assert json.loads(stored.raw)["vendor"] == "TestVendorNickname"


def test_key_is_first_32_hex_chars_of_sha1():
    import hashlib
    assert derive_key("ABC") == hashlib.sha1(b"ABC").hexdigest()[:32].encode()


def test_encrypt_then_decrypt_round_trip_with_clickbank_style_iv():
    body = encrypt_payload('{"a": 1}', "KEY1")
    iv = base64.b64decode(body["iv"])
    assert len(iv) == 16 and iv.isascii()  # like ClickBank's: printable bytes
    assert decrypt_envelope(body, "KEY1") == '{"a": 1}'
    with pytest.raises(InsCryptoError):
        decrypt_envelope(body, "KEY2")


def test_dumps_exact_writes_decimals_as_numbers_without_float():
    text = dumps_exact({"a": Decimal("0.10"), "b": [Decimal("-1.00")], "c": "@@num0@@x"})
    assert text == '{"a":0.10,"b":[-1.00],"c":"@@num0@@x"}'
