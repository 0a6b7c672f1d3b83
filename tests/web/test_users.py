"""Merchant users: `affsrv user add`, one-time sign-in links, sign-in and its throttling,
sign-out, password and time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from affsrv.cli import cli
from affsrv.extensions import db
from affsrv.users.models import MerchantUser
from affsrv.users.services import authenticate
from tests.helpers import add_affiliate, add_product
from tests.web.support import PASSWORD, add_merchant, csrf_token, merchant_client, sign_in


def _cli(app, *args, input=None):
    return CliRunner().invoke(cli, list(args), obj=_script_info(app), input=input)


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_user_add_prints_a_one_time_link_that_signs_in_once(app):
    done = _cli(app, "user", "add", "--email", "Boss@Shop.example")
    assert done.exit_code == 0, done.output
    link = done.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/login/link/")
    path = link.removeprefix("http://127.0.0.1:8000")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and b"Sign in" in page.data  # opening it uses nothing up
    used = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert used.status_code == 303 and used.headers["Location"] == "/account"
    assert client.get("/admin/affiliates").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(MerchantUser))
        assert user.email == "boss@shop.example" and user.role == "owner"
        assert user.signin_token_hash is None  # only a hash was ever stored, now none
    again = app.test_client()
    second = again.post(path, data={"csrf_token": csrf_token(again, path)})
    assert second.status_code == 410
    assert again.get("/admin/affiliates").status_code == 302


def test_the_link_uses_public_url_and_expires(make_app):
    app = make_app(web={"public_url": "https://aff.shop.example/", "signin_link_hours": 1})
    done = _cli(app, "user", "add", "--email", "staff@shop.example", "--role", "staff")
    assert done.exit_code == 0, done.output
    link = done.output.strip().splitlines()[-1]
    assert link.startswith("https://aff.shop.example/login/link/")
    with app.app_context():
        user = db.session.scalar(select(MerchantUser))
        assert user.role == "staff"
        user.signin_token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    client = app.test_client()
    path = link.removeprefix("https://aff.shop.example")
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 410
    assert client.get("/admin/affiliates").status_code == 302


def test_user_add_with_password_stdin_and_refusals(app):
    done = _cli(app, "user", "add", "--email", "a@shop.example", "--password-stdin",
                input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert "link" not in done.output
    assert sign_in(app.test_client(), "a@shop.example").status_code == 303
    twice = _cli(app, "user", "add", "--email", "A@shop.example")
    assert twice.exit_code == 1 and "already exists" in twice.output
    short = _cli(app, "user", "add", "--email", "b@shop.example", "--password-stdin",
                 input="short\n")
    assert short.exit_code == 1 and "password" in short.output
    bad = _cli(app, "user", "add", "--email", "not-an-address")
    assert bad.exit_code == 1 and "e-mail" in bad.output
    with app.app_context():
        assert db.session.scalar(select(MerchantUser.email).where(
            MerchantUser.email == "b@shop.example")) is None
    relink = _cli(app, "user", "link", "--email", "a@shop.example")
    assert relink.exit_code == 0 and "/login/link/" in relink.output
    listed = _cli(app, "user", "list")
    assert "a@shop.example" in listed.output and "owner" in listed.output


def test_password_is_stored_as_argon2id(app):
    add_merchant(app)
    with app.app_context():
        stored = db.session.scalar(select(MerchantUser.password_hash))
        assert stored.startswith("$argon2id$")
        assert authenticate("owner@shop.example", PASSWORD) is not None


def test_unknown_user_and_wrong_password_get_the_same_answer(app):
    add_merchant(app)
    wrong = sign_in(app.test_client(), password="not the password")
    unknown = sign_in(app.test_client(), email="nobody@shop.example")
    assert wrong.status_code == unknown.status_code == 401

    def body(response):
        # Less the CSRF tokens (each session's own).
        return re.sub(r'(value="|Token": ")[^"]*"', "", response.get_data(as_text=True))

    assert body(wrong).replace("owner@shop.example", "X") == body(unknown).replace(
        "nobody@shop.example", "X")
    assert "Wrong e-mail or password." in body(wrong)


def test_sign_in_without_csrf_token_is_refused(app):
    add_merchant(app)
    client = app.test_client()
    refused = client.post("/login", data={"email": "owner@shop.example", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/admin/affiliates").status_code == 302


LIMITS = {"signin_failures_per_account": 3, "signin_failures_per_ip": 5}


def test_failed_sign_ins_lock_the_account_whatever_the_ip(make_app):
    app = make_app(web=LIMITS)
    add_merchant(app)
    limit = LIMITS["signin_failures_per_account"]
    for n in range(limit):
        answer = sign_in(app.test_client(), password="wrong one",
                         REMOTE_ADDR=f"10.0.0.{n + 1}")
        assert answer.status_code == 401
    locked = sign_in(app.test_client(), REMOTE_ADDR="10.0.1.1")  # the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    # An address nobody has locks the same way: a lockout tells nothing about who exists.
    for n in range(limit):
        sign_in(app.test_client(), email="ghost@shop.example", REMOTE_ADDR=f"10.0.2.{n + 1}")
    assert sign_in(app.test_client(), email="ghost@shop.example",
                   REMOTE_ADDR="10.0.3.1").status_code == 429
    # Another account from a fresh address still signs in.
    add_merchant(app, "second@shop.example")
    assert sign_in(app.test_client(), "second@shop.example",
                   REMOTE_ADDR="10.0.4.1").status_code == 303


def test_failed_sign_ins_from_one_ip_lock_that_ip(make_app):
    app = make_app(web=LIMITS)
    add_merchant(app)
    limit = LIMITS["signin_failures_per_ip"]
    for n in range(limit):
        assert sign_in(app.test_client(), email=f"guess{n}@shop.example",
                       REMOTE_ADDR="10.9.9.9").status_code == 401
    assert sign_in(app.test_client(), REMOTE_ADDR="10.9.9.9").status_code == 429
    assert sign_in(app.test_client(), REMOTE_ADDR="10.9.9.10").status_code == 303


def test_successful_sign_ins_do_not_count(make_app):
    app = make_app(web=LIMITS)
    add_merchant(app)
    limit = LIMITS["signin_failures_per_account"]
    for _ in range(limit + 2):
        assert sign_in(app.test_client()).status_code == 303


def test_root_redirects_and_next_stays_on_this_site(app):
    client = app.test_client()
    assert client.get("/").headers["Location"] == "/affiliate/login"
    assert client.get("/admin/commissions").headers["Location"].startswith(
        "/login?next=%2Fadmin%2Fcommissions")
    add_merchant(app)
    token = csrf_token(client, "/login")
    went = client.post("/login?next=/admin/payouts", data={
        "csrf_token": token, "email": "owner@shop.example", "password": PASSWORD})
    assert went.headers["Location"] == "/admin/payouts"
    assert client.get("/").headers["Location"] == "/admin/"  # the overview
    other = app.test_client()
    token = csrf_token(other, "/login")
    away = other.post("/login?next=//evil.example/x", data={
        "csrf_token": token, "email": "owner@shop.example", "password": PASSWORD})
    assert away.headers["Location"] == "/"


def test_sign_out_needs_the_form_token_and_ends_the_session(app):
    client = merchant_client(app)
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/affiliates").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert out.status_code == 303
    assert client.get("/admin/affiliates").status_code == 302


def test_password_change_signs_out_other_sessions(app):
    client = merchant_client(app)
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "owner@shop.example").status_code == 303
    token = csrf_token(client, "/account")
    wrong = client.post("/account", data={"csrf_token": token, "pw-current": "nope",
                                          "pw-new": "a new password 1", "pw-confirm":
                                          "a new password 1", "pw-submit": "1"})
    assert wrong.status_code == 400
    changed = client.post("/account", data={
        "csrf_token": token, "pw-current": PASSWORD, "pw-new": "a new password 1",
        "pw-confirm": "a new password 1", "pw-submit": "1"})
    assert changed.status_code == 303
    assert client.get("/admin/affiliates").status_code == 200  # this session goes on
    assert elsewhere.get("/admin/affiliates").status_code == 302  # the other one is out
    assert sign_in(app.test_client()).status_code == 401
    assert sign_in(app.test_client(), password="a new password 1").status_code == 303


def test_times_are_shown_in_the_viewers_zone(make_app):
    from affsrv.affiliates.services import get_affiliate
    from affsrv.commissions.services import record_commission
    from affsrv.products.services import get_product

    app = make_app(server={"timezone": "UTC"})
    code, pid = add_affiliate(app), add_product(app)
    with app.app_context():
        recorded = record_commission(get_affiliate(code), get_product(pid), Decimal("10.00"),
                                     Decimal("1.00")).commission
        utc_text = recorded.created_at.strftime("%Y-%m-%d %H:%M")
        tokyo_text = recorded.created_at.astimezone(
            __import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    client = merchant_client(app)
    assert utc_text in client.get("/admin/commissions").get_data(as_text=True)
    saved = client.post("/account", data={"csrf_token": csrf_token(client, "/account"),
                                          "tz-timezone": "Asia/Tokyo", "tz-submit": "1"})
    assert saved.status_code == 303
    page = client.get("/admin/commissions").get_data(as_text=True)
    assert tokyo_text in page and "Times in Asia/Tokyo." in page
    bad = client.post("/account", data={"csrf_token": csrf_token(client, "/account"),
                                        "tz-timezone": "Mars/Base", "tz-submit": "1"})
    assert bad.status_code == 400


@pytest.mark.parametrize("path", ["/account"])
def test_account_needs_a_signed_in_merchant(client, path):
    assert client.get(path).status_code == 302
