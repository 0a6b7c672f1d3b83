"""The code in the docs works: a receiver decrypts affsrv's notifications with the function
docs/notifications.md gives, and the sender docs/clickbank-ins.md gives produces bodies affsrv
accepts."""

import re
from decimal import Decimal
from pathlib import Path

from tests.clickbank.support import Receiver, add_cb_account, notification
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import KEY, run_due, subscribe

DOCS = [Path(__file__).parents[2] / "docs" / page
        for page in ("notifications.md", "clickbank-ins.md")]


def _function(name: str):
    blocks = [block for doc in DOCS
              for block in re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)]
    [block] = [b for b in blocks if f"def {name}(" in b]
    namespace: dict = {}
    exec(compile(block, f"docs:{name}", "exec"), namespace)  # noqa: S102 - our own docs
    return namespace[name]


def test_documented_receiver_decrypts_what_affsrv_sends(make_app, api_key):
    decrypt_notification = _function("decrypt_notification")
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code = add_affiliate(app, code="annie")
    pid = add_product(app, sku="W-1")
    receiver = Receiver()
    with receiver.running():
        subscribe(app, receiver.url, key=KEY)
        api(app.test_client(), api_key, code, commission={
            "product": pid, "saletotal": "80.00", "commtotal": "8.00", "ref": "ORD-9"})
        assert run_due(app) == 1
    sent = decrypt_notification(receiver.bodies[0], KEY)
    assert (sent["transactionType"], sent["receipt"], sent["attemptCount"]) == (
        "SALE", "ORD-9", 1)
    assert sent["totalOrderAmount"] == Decimal("80.00")


def test_documented_sender_is_accepted(make_app):
    clickbank_body = _function("clickbank_body")
    app = make_app()
    add_cb_account(app, "myvendor", "MYSECRETKEY12345")
    body = clickbank_body(notification(receipt="TESTR001"), "MYSECRETKEY12345")
    r = app.test_client().post("/ins/clickbank/myvendor", json=body)
    assert r.status_code == 200 and r.text.strip() == "stored"
