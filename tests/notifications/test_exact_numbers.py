"""Amounts in an outbound notification are JSON numbers put in place by the encoder: text in
the payload that looks like the old encoder's placeholders (``@@num0@@``) is delivered as it was
sent (issue 19: a ref ``@@num0@@`` swapped places with an amount)."""

from decimal import Decimal

from affsrv.notifications.models import OutboxStatus
from tests.clickbank.support import Receiver
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import messages, opened, run_due, subscribe

# Every placeholder the old encoder made for a commission's notification (it numbered each
# amount, about a dozen), and the forms around them.
REFS = [f"@@num{n}@@" for n in range(16)] + ['"@@num0@@"', "@@num@@", "x@@num1@@"]


def test_refs_and_names_like_placeholders_are_delivered_intact(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code = add_affiliate(app)
    pid = add_product(app, name="@@num2@@")
    receiver = Receiver()
    with receiver.running():
        subscribe(app, receiver.url)
        for ref in REFS:
            r = api(app.test_client(), api_key, code, commission={
                "product": pid, "saletotal": "19.99", "commtotal": "1.75", "ref": ref})
            assert r.status_code == 200, r.json
        assert run_due(app) == len(REFS)
    assert {m.status for m in messages(app)} == {OutboxStatus.DELIVERED}
    delivered = sorted((opened(body) for body in receiver.bodies),
                       key=lambda n: REFS.index(n["receipt"]))
    assert [n["receipt"] for n in delivered] == REFS
    for notification in delivered:
        assert notification["totalOrderAmount"] == Decimal("19.99")
        assert notification["totalAccountAmount"] == Decimal("18.24")
        [item] = notification["lineItems"]
        assert item["productTitle"] == "@@num2@@"
        assert (item["productPrice"], item["affiliatePayout"], item["taxAmount"]) == (
            Decimal("19.99"), Decimal("1.75"), Decimal("0.00"))
        assert notification["affiliate"] == code
