"""/admin/notifications: subscriptions (add, with a generated key shown once; remove), each
one's delivery log (tries, status, the receiver's HTTP status, times in the viewer's zone,
paged) and Resend (htmx, CSRF-checked), against a real receiver on loopback."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from affsrv.extensions import db
from affsrv.notifications.models import OutboxStatus, Subscription
from tests.clickbank.support import Receiver
from tests.helpers import add_affiliate, add_product
from tests.notifications.support import KEY, messages, run_due, subscribe
from tests.web.support import csrf_token, merchant_client, post_form, record_sale


@pytest.fixture
def shop(make_app):
    # One try only: a receiver's refusal fails the notification at once, ready for Resend.
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   notifications={"max_attempts": 1}, server={"timezone": "Asia/Kathmandu"})
    add_affiliate(app, code="annie")
    return app


def _subscriptions(app):
    with app.app_context():
        rows = list(db.session.scalars(select(Subscription).order_by(Subscription.id)))
        db.session.expunge_all()
        return rows


def test_add_a_subscription_its_generated_key_shown_once(app):
    add_affiliate(app, code="annie")
    pid = add_product(app)
    client = merchant_client(app)
    page = "/admin/notifications"
    added = post_form(client, page, page, url="https://hooks.example/ins?token=abc",
                      affiliate="annie", product_id=str(pid))
    assert added.status_code == 200
    key = re.search(r'id="new-key">([^<]+)<', added.text).group(1)
    [subscription] = _subscriptions(app)
    assert (subscription.url, subscription.secret_key, subscription.product_id) == (
        "https://hooks.example/ins?token=abc", key, pid)
    assert subscription.affiliate_id is not None
    listed = client.get(page).text
    assert key not in listed and "https://hooks.example:443/ins" in listed
    assert "token=abc" not in listed  # a URL's query may hold the receiver's own secret
    given = post_form(client, page, page, url="https://other.example/ins", secret_key=KEY)
    assert given.status_code == 200 and 'id="new-key"' not in given.text
    assert KEY not in given.text and KEY not in client.get(page).text


@pytest.mark.parametrize(("fields", "status", "says"), [
    ({"url": "javascript:alert(1)"}, 400, "http"),
    ({"url": "http://10.1.2.3/ins"}, 400, "private"),
    ({"url": "https://hooks.example/", "secret_key": "not letters!"}, 400, "secret key"),
    ({"url": "https://hooks.example/", "affiliate": "nobody"}, 404, "unknown affiliate"),
    ({"url": "https://hooks.example/", "product_id": "999"}, 404, "unknown product"),
    ({"url": "https://hooks.example/", "product_id": "two"}, 400, "Not a valid integer"),
    ({"url": ""}, 400, "This field is required"),
])
def test_a_refused_subscription_writes_nothing_and_says_why(app, fields, status, says):
    client = merchant_client(app)
    answer = post_form(client, "/admin/notifications", "/admin/notifications", **fields)
    assert answer.status_code == status
    assert says.lower() in answer.text.lower()
    assert _subscriptions(app) == []


def test_remove_a_subscription_keeps_its_log(app):
    sid = subscribe(app, "https://hooks.example/ins")
    client = merchant_client(app)
    removed = post_form(client, "/admin/notifications", f"/admin/notifications/{sid}/remove")
    assert removed.status_code == 303
    [subscription] = _subscriptions(app)
    assert subscription.removed_at is not None and not subscription.enabled
    assert "removed" in client.get("/admin/notifications").text
    assert client.get(f"/admin/notifications/{sid}").status_code == 200
    again = post_form(client, "/admin/notifications", f"/admin/notifications/{sid}/remove")
    assert again.status_code == 404
    assert client.get("/admin/notifications/999").status_code == 404


def test_the_delivery_log_and_resend_with_htmx(shop):
    pid = add_product(shop)
    receiver = Receiver(statuses=[500])
    with receiver.running():
        sid = subscribe(shop, receiver.url)
        other = subscribe(shop, "https://elsewhere.example/ins")
        record_sale(shop, "annie", pid, "10.00", ref="ORD-1")
        ours = [m for m in messages(shop) if m.subscription_id == sid]
        assert len(ours) == 1
        mid = ours[0].id
        run_due(shop)
        [failed] = [m for m in messages(shop) if m.id == mid]
        assert (failed.status, failed.response_code, failed.attempts) == (
            OutboxStatus.FAILED, 500, 1)
        staff = merchant_client(shop, role="staff")  # staff may read the log and resend
        log = f"/admin/notifications/{sid}"
        page = staff.get(log).text
        row = re.search(rf'<tr id="message-{mid}">.*?</tr>', page, re.S).group(0)
        created = failed.created_at.astimezone(ZoneInfo("Asia/Kathmandu"))
        assert created.strftime("%Y-%m-%d %H:%M") in row  # the viewer's zone (+05:45)
        assert ">failed<" in row and ">500<" in row and "HTTP 500" in row and "Resend" in row
        token = csrf_token(staff, log)
        resend = f"/admin/notifications/{sid}/messages/{mid}/resend"
        assert staff.post(resend, headers={"HX-Request": "true"}).status_code == 400  # no CSRF
        answer = staff.post(resend, headers={"HX-Request": "true", "X-CSRFToken": token})
        assert answer.status_code == 200
        assert answer.text.startswith(f'<tr id="message-{mid}">') and ">pending<" in answer.text
        assert "Resend" not in answer.text and "<html" not in answer.text
        again = staff.post(resend, headers={"HX-Request": "true", "X-CSRFToken": token})
        assert again.status_code == 409
        elsewhere = f"/admin/notifications/{other}/messages/{mid}/resend"
        assert staff.post(elsewhere, headers={"X-CSRFToken": token}).status_code == 404
        run_due(shop)
        [delivered] = [m for m in messages(shop) if m.id == mid]
        assert (delivered.status, delivered.response_code) == (OutboxStatus.DELIVERED, 200)
        assert len(receiver.bodies) == 2
        row = re.search(rf'<tr id="message-{mid}">.*?</tr>', staff.get(log).text, re.S).group(0)
        assert ">delivered<" in row and ">200<" in row and "Resend" not in row
        assert KEY not in staff.get(log).text
        # Staff cannot add or remove subscriptions.
        assert staff.post("/admin/notifications", data={
            "csrf_token": token, "url": "https://x.example/"}).status_code == 403
        assert staff.post(f"/admin/notifications/{sid}/remove",
                          data={"csrf_token": token}).status_code == 403
        assert "Add a subscription" not in staff.get("/admin/notifications").text


def test_resend_without_htmx_comes_back_to_the_log(shop):
    pid = add_product(shop)
    receiver = Receiver(statuses=[503])
    with receiver.running():
        sid = subscribe(shop, receiver.url)
        record_sale(shop, "annie", pid, "10.00", ref="ORD-1")
        run_due(shop)
        [message] = messages(shop, "ins")
        client = merchant_client(shop)
        log = f"/admin/notifications/{sid}"
        answer = post_form(client, log, f"{log}/messages/{message.id}/resend")
        assert answer.status_code == 303 and answer.headers["Location"].startswith(log)
        assert [m.status for m in messages(shop, "ins")] == [OutboxStatus.PENDING]


def test_the_delivery_log_is_paged(shop):
    pid = add_product(shop)
    sid = subscribe(shop, "https://hooks.example/ins")
    for n in range(55):
        record_sale(shop, "annie", pid, "1.00", ref=f"ORD-{n}")
    ids = sorted((m.id for m in messages(shop, "ins")), reverse=True)
    assert len(ids) == 55
    client = merchant_client(shop)
    first = client.get(f"/admin/notifications/{sid}").text
    second = client.get(f"/admin/notifications/{sid}?page=2").text
    on_first = [int(i) for i in re.findall(r'<tr id="message-(\d+)">', first)]
    on_second = [int(i) for i in re.findall(r'<tr id="message-(\d+)">', second)]
    assert on_first == ids[:50] and on_second == ids[50:]
    assert "page=2" in first and ">Older<" in first and ">Older<" not in second
    assert "Newer" in second
    assert client.get(f"/admin/notifications/{sid}?page=x").status_code == 400
