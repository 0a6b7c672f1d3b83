"""The affiliate area: sign-up (and the merchant's e-mail), sign-in, password reset by e-mail,
password change; the affiliate's code, links, commissions and payments, with CSV. Every page is
also opened with another affiliate's session, which must see none of this one's data."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from affsrv.affiliates.models import Affiliate
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.portal.models import AffiliateLogin
from tests.helpers import add_affiliate, add_product
from tests.notifications.support import run_due
from tests.notifications.test_mail import smtp_server
from tests.web.support import csrf_token, merchant_client, record_sale

PASSWORD = "affiliate pass 1"
ADMIN = "boss@shop.example"


def _body(mail):
    return mail.get_payload(decode=True).decode()


def _affiliate(app, code):
    with app.app_context():
        return db.session.scalar(select(Affiliate).where(Affiliate.code == code))


def affiliate_sign_in(client, email, password=PASSWORD, **environ):
    token = csrf_token(client, "/affiliate/login")
    return client.post("/affiliate/login", data={"csrf_token": token, "email": email,
                                                 "password": password}, environ_base=environ)


def affiliate_client(app, code, email):
    add_affiliate(app, code=code, email=email, password=PASSWORD)
    client = app.test_client()
    assert affiliate_sign_in(client, email).status_code == 303
    return client


def _mail_app(make_app, port, **affiliates):
    return make_app(mail={"host": "127.0.0.1", "port": port, "admin": ADMIN,
                          "from": "affsrv@shop.example"}, affiliates=affiliates,
                    web={"public_url": "https://aff.shop.example"})


@pytest.mark.parametrize("require_approval", [True, False])
def test_sign_up_is_held_for_approval_as_configured_and_the_merchant_is_mailed(
        make_app, require_approval):
    with smtp_server() as (inbox, port):
        app = _mail_app(make_app, port, require_approval=require_approval)
        client = app.test_client()
        token = csrf_token(client, "/affiliate/signup")
        done = client.post("/affiliate/signup", data={
            "csrf_token": token, "fname": "Dee", "lname": "Park", "email": "dee@blog.example",
            "password": PASSWORD, "confirm": PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert done.status_code == 303 and done.headers["Location"] == "/affiliate/"
        with app.app_context():
            dee = db.session.scalar(select(Affiliate).where(
                Affiliate.email == "dee@blog.example"))
            assert dee.approved is (not require_approval)
            assert dee.password_hash.startswith("$argon2id$") and dee.ip == "10.1.2.3"
        page = client.get("/affiliate/").get_data(as_text=True)
        assert f'id="my-code" class="secret-value">{dee.code}<' in page
        assert ("waits for the merchant" in page) is require_approval
        assert run_due(app) == 1
    [mail] = inbox.to(ADMIN)
    assert mail["Subject"] == f"New affiliate sign-up: {dee.code} (" + (
        "waits for your approval)" if require_approval else "is active)")
    body = _body(mail)
    assert "dee@blog.example" in body and "Dee Park" in body
    assert "https://aff.shop.example/admin/affiliates?state=pending" in body


def test_sign_up_refusals_write_nothing(app):
    add_affiliate(app, email="taken@blog.example")
    client = app.test_client()
    token = csrf_token(client, "/affiliate/signup")
    base = {"csrf_token": token, "fname": "Dee", "lname": "Park", "password": PASSWORD,
            "confirm": PASSWORD}
    assert client.post("/affiliate/signup", data={**base, "email": "taken@blog.example"}
                       ).status_code == 409
    assert client.post("/affiliate/signup", data={**base, "email": "not-an-address"}
                       ).status_code == 400
    assert client.post("/affiliate/signup", data={**base, "email": "x@blog.example",
                                                  "confirm": "other"}).status_code == 400
    assert client.post("/affiliate/signup", data={**base, "email": "x@blog.example",
                                                  "password": "short", "confirm": "short"}
                       ).status_code == 400
    with app.app_context():
        assert db.session.query(Affiliate).count() == 1
    assert client.post("/affiliate/signup", data={**base, "csrf_token": "",
                                                  "email": "y@blog.example"}).status_code == 400


def test_sign_in_same_answer_disabled_out_and_throttled(make_app):
    app = make_app(web={"signin_failures_per_account": 2, "signin_failures_per_ip": 50})
    ann = affiliate_client(app, "ann", "ann@blog.example")
    wrong = affiliate_sign_in(app.test_client(), "ann@blog.example", "wrong password")
    unknown = affiliate_sign_in(app.test_client(), "nobody@blog.example")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    # Disabling the affiliate ends the session and refuses sign-in.
    with app.app_context():
        from affsrv.affiliates.services import set_enabled

        set_enabled("ann", False)
    assert ann.get("/affiliate/").status_code == 302
    assert affiliate_sign_in(app.test_client(), "ann@blog.example").status_code == 401
    # ann has now failed twice: locked, even with the right password once enabled again.
    with app.app_context():
        set_enabled("ann", True)
    assert affiliate_sign_in(app.test_client(), "ann@blog.example").status_code == 429


def test_an_affiliate_session_is_no_merchant_session_and_the_reverse(app):
    ann = affiliate_client(app, "ann", "ann@blog.example")
    assert ann.get("/admin/affiliates").status_code == 302
    assert ann.get("/").headers["Location"] == "/affiliate/"
    merchant = merchant_client(app)
    assert merchant.get("/affiliate/").headers["Location"].startswith("/affiliate/login")


def test_password_reset_by_email(make_app):
    with smtp_server() as (inbox, port):
        app = _mail_app(make_app, port)
        add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD)
        client = app.test_client()
        token = csrf_token(client, "/affiliate/reset")
        for email in ("ann@blog.example", "nobody@blog.example"):
            asked = client.post("/affiliate/reset", data={"csrf_token": token, "email": email})
            assert asked.status_code == 303  # the same answer for both
        run_due(app)
        with app.app_context():
            stored = db.session.scalar(select(AffiliateLogin.reset_token_hash))
    [mail] = inbox.to("ann@blog.example")
    assert len(inbox.mails) == 1
    link = re.search(r"https://aff\.shop\.example(/affiliate/reset/\S+)", _body(mail))
    path = link.group(1)
    assert path.rsplit("/", 1)[1] not in stored  # only its hash is stored
    reset = app.test_client()
    page_token = csrf_token(reset, path)
    short = reset.post(path, data={"csrf_token": page_token, "password": "short",
                                   "confirm": "short"})
    assert short.status_code == 400
    done = reset.post(path, data={"csrf_token": page_token, "password": "brand new pass",
                                  "confirm": "brand new pass"})
    assert done.status_code == 303 and reset.get("/affiliate/").status_code == 200
    assert affiliate_sign_in(app.test_client(), "ann@blog.example").status_code == 401
    assert affiliate_sign_in(app.test_client(), "ann@blog.example",
                             "brand new pass").status_code == 303
    assert app.test_client().get(path).status_code == 410  # used up


def test_reset_requests_are_limited_per_ip(app):
    from affsrv.users.throttle import RESET_REQUESTS_PER_IP

    client = app.test_client()
    token = csrf_token(client, "/affiliate/reset")
    allowed = int(RESET_REQUESTS_PER_IP.split()[0])
    for n in range(allowed):
        answer = client.post("/affiliate/reset", data={"csrf_token": token,
                                                       "email": f"x{n}@blog.example"},
                             environ_base={"REMOTE_ADDR": "10.7.7.7"})
        assert answer.status_code == 303
    refused = client.post("/affiliate/reset", data={"csrf_token": token,
                                                    "email": "y@blog.example"},
                          environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert refused.status_code == 429
    assert "Too many reset links" in refused.get_data(as_text=True)
    assert client.post("/affiliate/reset", data={"csrf_token": token, "email": "y@blog.example"},
                       environ_base={"REMOTE_ADDR": "10.7.7.8"}).status_code == 303


def test_an_expired_reset_link_does_not_work(make_app):
    with smtp_server() as (inbox, port):
        app = _mail_app(make_app, port)
        add_affiliate(app, code="ann", email="ann@blog.example", password=PASSWORD)
        client = app.test_client()
        client.post("/affiliate/reset", data={"csrf_token": csrf_token(client, "/affiliate/reset"),
                                              "email": "ann@blog.example"})
        run_due(app)
    path = re.search(r"(/affiliate/reset/\S+)", _body(inbox.mails[0][1])).group(1)
    with app.app_context():
        record = db.session.scalar(select(AffiliateLogin))
        record.reset_token_expires_at = datetime(2020, 1, 1, tzinfo=UTC)
        db.session.commit()
    assert app.test_client().get(path).status_code == 410


def test_password_change_needs_the_current_one_and_ends_other_sessions(app):
    ann = affiliate_client(app, "ann", "ann@blog.example")
    other = app.test_client()
    affiliate_sign_in(other, "ann@blog.example")
    token = csrf_token(ann, "/affiliate/account")
    form = {"csrf_token": token, "pw-new": "another pass 2", "pw-confirm": "another pass 2",
            "pw-submit": "1"}
    assert ann.post("/affiliate/account", data={**form, "pw-current": "nope"}
                    ).status_code == 400
    assert ann.post("/affiliate/account", data={**form, "pw-current": PASSWORD}
                    ).status_code == 303
    assert ann.get("/affiliate/").status_code == 200
    assert other.get("/affiliate/").status_code == 302
    assert affiliate_sign_in(app.test_client(), "ann@blog.example",
                             "another pass 2").status_code == 303


def _two_affiliates(make_app):
    app = make_app(commissions={"require_approval": False},
                   web={"public_url": "https://aff.shop.example"})
    widget, gadget = add_product(app, name="Widget"), add_product(app, name="Gadget")
    ann = affiliate_client(app, "ann", "ann@blog.example")
    bob = affiliate_client(app, "bob", "bob@blog.example")
    ids = {"ann-w": record_sale(app, "ann", widget, "12.00", ref="a1"),
           "ann-g": record_sale(app, "ann", gadget, "8.00", ref="a2"),
           "bob-w": record_sale(app, "bob", widget, "99.00", ref="b1")}
    with app.app_context():
        db.session.get(Commission, ids["ann-w"]).created_at = datetime(2026, 4, 1, 10, tzinfo=UTC)
        db.session.get(Commission, ids["ann-g"]).created_at = datetime(2026, 4, 9, 10, tzinfo=UTC)
        db.session.commit()
        from affsrv.affiliates.services import get_affiliate
        from affsrv.payments.services import record_payment

        record_payment(get_affiliate("ann"), method="paypal", amount="12.00", reference="P-ann")
        record_payment(get_affiliate("bob"), method="bank", amount="99.00", reference="P-bob")
    return app, ann, bob, ids, widget, gadget


def test_dashboard_shows_code_links_balance_and_latest(make_app):
    app, ann, _bob, _ids, widget, gadget = _two_affiliates(make_app)
    page = ann.get("/affiliate/").get_data(as_text=True)
    assert 'id="my-code" class="secret-value">ann<' in page
    assert f"https://aff.shop.example/r/ann?p={widget}" in page
    assert f"https://aff.shop.example/r/ann?p={gadget}" in page
    assert re.search(r'id="bal-earned">20.00<', page)
    assert re.search(r'id="bal-paid">12.00<', page)
    assert re.search(r'id="bal-owed">8.00<', page)
    assert page.count('<tr class="commission">') == 2 and page.count('<tr class="payment">') == 1


def test_commissions_filtered_by_date_and_product_with_csv(make_app):
    app, ann, _bob, ids, widget, _gadget = _two_affiliates(make_app)

    def shown(query=""):
        html = ann.get("/affiliate/commissions?" + query).get_data(as_text=True)
        return {int(i) for i in re.findall(r'id="commission-(\d+)"', html)}

    assert shown() == {ids["ann-w"], ids["ann-g"]}
    assert shown(f"product={widget}") == {ids["ann-w"]}
    assert shown("from=2026-04-05") == {ids["ann-g"]}
    assert shown("to=2026-04-05") == {ids["ann-w"]}
    assert ann.get("/affiliate/commissions?from=soon").status_code == 400
    assert ann.get("/affiliate/commissions?product=999").status_code == 404
    rows = list(csv.DictReader(io.StringIO(
        ann.get(f"/affiliate/commissions.csv?product={widget}").get_data(as_text=True))))
    assert [(int(r["id"]), r["product"], r["commission_total"], r["paid"]) for r in rows] == [
        (ids["ann-w"], "Widget", "12.00", "yes")]


def test_payments_with_csv(make_app):
    app, ann, _bob, _ids, _w, _g = _two_affiliates(make_app)
    assert "P-ann" in ann.get("/affiliate/payments").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(
        ann.get("/affiliate/payments.csv").get_data(as_text=True))))
    assert [(r["method"], r["amount"], r["currency"], r["reference"]) for r in rows] == [
        ("paypal", "12.00", "USD", "P-ann")]


ROUTES = ["/affiliate/", "/affiliate/commissions", "/affiliate/commissions.csv",
          "/affiliate/payments", "/affiliate/payments.csv", "/affiliate/account",
          "/affiliate/performance", "/affiliate/performance.csv", "/affiliate/referrals",
          "/affiliate/referrals.csv", "/affiliate/account/close"]


@pytest.mark.parametrize("path", ROUTES)
def test_another_affiliates_session_sees_none_of_this_ones_data(make_app, path):
    app, _ann, bob, ids, widget, _gadget = _two_affiliates(make_app)
    ann_id = _affiliate(app, "ann").id
    # Whatever the URL names (an affiliate code or id, ann's commission), bob sees only bob's.
    for query in ("", f"?affiliate=ann&affiliate_id={ann_id}&id={ids['ann-w']}",
                  f"?product={widget}"):
        answer = bob.get(path + query)
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert "P-ann" not in text and "12.00" not in text and "ann@blog.example" not in text
        assert f'id="commission-{ids["ann-w"]}"' not in text
        assert "/r/ann?" not in text


def test_the_affiliate_area_needs_an_affiliate(client):
    for path in ROUTES:
        answer = client.get(path)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/affiliate/login?next=")
    assert client.post("/affiliate/logout").status_code == 302


def test_affiliate_forms_need_their_csrf_token(app):
    ann = affiliate_client(app, "ann", "ann@blog.example")
    assert ann.post("/affiliate/account", data={"tz-timezone": "UTC", "tz-submit": "1"}
                    ).status_code == 400
    assert ann.post("/affiliate/logout").status_code == 400
    assert ann.get("/affiliate/").status_code == 200
    anon = app.test_client()
    assert anon.post("/affiliate/login", data={"email": "ann@blog.example",
                                               "password": PASSWORD}).status_code == 400
    assert anon.post("/affiliate/reset", data={"email": "ann@blog.example"}).status_code == 400
