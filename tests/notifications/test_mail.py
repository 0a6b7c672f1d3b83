"""Commission e-mails, sent by the worker over SMTP to a real server on loopback."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from affsrv.db.types import utcnow
from affsrv.notifications.models import OutboxStatus
from tests.clickbank.support import add_cb_account, notification, post_ins
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import messages, run_due

ADMIN = "boss@shop.example"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for rcpts, m in self.mails if address in rcpts]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _app(make_app, port: int, **mail: Any):
    config = {"host": "127.0.0.1", "port": port, "admin": ADMIN, "from": "affsrv@shop.example"}
    config.update(mail)
    app = make_app(commissions={"require_approval": False}, mail=config)
    add_affiliate(app, code="annie", email="annie@aff.example", fname="Annie")
    return app


def _commission(app, key, pid, **extra):
    r = api(app.test_client(), key, "annie", commission={
        "product": pid, "saletotal": "80.00", "commtotal": "8.00", "ref": "ORD-9"}, **extra)
    assert r.status_code == 200, r.json


def test_affiliate_and_admin_get_mail_with_custom_fields_in_the_admin_one(make_app, api_key):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port)
        pid = add_product(app, name="Widget")
        _commission(app, api_key, pid, custom={"order_no": "A-77", "coupon": "SPRING"})
        assert inbox.mails == []  # nothing is sent on the request path
        assert run_due(app) == 2
    [to_affiliate] = inbox.to("annie@aff.example")
    [to_admin] = inbox.to(ADMIN)
    assert to_affiliate["Subject"] == "New commission: 8.00 USD"
    assert to_affiliate["From"] == "affsrv@shop.example"
    body = to_affiliate.get_payload()
    assert "Hello Annie" in body and "Commission: 8.00 USD" in body and "ORD-9" in body
    assert "A-77" not in body
    admin_body = to_admin.get_payload()
    assert "Affiliate: annie" in admin_body and "Sale total: 80.00 USD" in admin_body
    assert "order_no: A-77" in admin_body and "coupon: SPRING" in admin_body
    assert {m.status for m in messages(app, "email")} == {OutboxStatus.DELIVERED}


def test_a_sender_with_a_display_name(make_app, api_key):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port, admin="", **{"from": "Shop Payouts <payouts@shop.example>"})
        _commission(app, api_key, add_product(app))
        assert run_due(app) == 1
    [mail] = inbox.to("annie@aff.example")
    assert mail["From"] == "Shop Payouts <payouts@shop.example>"
    assert re.fullmatch(r"<[^<>@\s]+@shop\.example>", mail["Message-ID"]), mail["Message-ID"]


@pytest.mark.parametrize("emails, wanted", [
    ({"affiliate": "no"}, [ADMIN]),
    ({"admin": "no"}, ["annie@aff.example"]),
    ({"affiliate": "no", "admin": "no"}, []),
])
def test_the_calls_emails_block_turns_either_off(make_app, api_key, emails, wanted):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port)
        _commission(app, api_key, add_product(app), emails=emails)
        run_due(app)
    assert sorted(r for rcpts, _ in inbox.mails for r in rcpts) == sorted(wanted)


@pytest.mark.parametrize("mail, wanted", [
    ({"affiliate_emails": False}, [ADMIN]),
    ({"admin_emails": False}, ["annie@aff.example"]),
    ({"admin": ""}, ["annie@aff.example"]),
    ({"enabled": False}, []),
])
def test_the_configuration_turns_either_off(make_app, api_key, mail, wanted):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port, **mail)
        _commission(app, api_key, add_product(app))
        run_due(app)
    assert sorted(r for rcpts, _ in inbox.mails for r in rcpts) == sorted(wanted)
    assert len(messages(app, "email")) == len(wanted)


def test_smtp_login_with_configured_credentials(make_app, api_key):
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    with smtp_server(authenticator=authenticator, auth_require_tls=False) as (inbox, port):
        app = _app(make_app, port, username="mailer", password="wrong", admin="")
        _commission(app, api_key, add_product(app))
        assert run_due(app) == 1
        [message] = messages(app, "email")
        assert message.status == OutboxStatus.PENDING and "Authentication" in message.last_error
        retry_app = make_app(commissions={"require_approval": False}, mail={
            "host": "127.0.0.1", "port": port, "admin": "", "username": "mailer",
            "password": "s3cret"})
        assert run_due(retry_app, now=utcnow() + timedelta(minutes=5)) == 1
    # smtplib tries each mechanism the server offers with the wrong password, then succeeds.
    assert logins[0] == (b"mailer", b"wrong") and logins[-1] == (b"mailer", b"s3cret")
    assert {password for _, password in logins} == {b"wrong", b"s3cret"}
    assert [rcpts for rcpts, _ in inbox.mails] == [["annie@aff.example"]]
    assert messages(app, "email")[0].status == OutboxStatus.DELIVERED


def test_smtp_server_down_is_retried(make_app, api_key):
    app = _app(make_app, _free_port(), admin="")
    _commission(app, api_key, add_product(app))
    assert run_due(app) == 1
    [message] = messages(app, "email")
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "ConnectionRefused" in message.last_error


class RefusingInbox(Inbox):
    """A server that refuses one recipient with ``reply`` (5xx: for good; 4xx: for now)."""

    def __init__(self, refused: str, reply: str) -> None:
        super().__init__()
        self.refused, self.reply = refused, reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address == self.refused:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def refusing_smtp_server(refused: str, reply: str) -> Iterator[int]:
    port = _free_port()
    controller = Controller(RefusingInbox(refused, reply), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _affiliate_mail(make_app, api_key, port: int, email: str) -> Any:
    """One commission e-mail to an affiliate at ``email``, tried once; the outbox message."""
    app = make_app(commissions={"require_approval": False}, mail={
        "host": "127.0.0.1", "port": port, "admin": "", "from": "affsrv@shop.example"})
    add_affiliate(app, code="jorg", email=email, fname="J")
    r = api(app.test_client(), api_key, "jorg", commission={
        "product": add_product(app), "saletotal": "80.00", "commtotal": "8.00"})
    assert r.status_code == 200, r.json
    assert run_due(app) == 1
    [message] = messages(app, "email")
    return message


def test_a_non_ascii_address_fails_at_once_on_a_server_without_smtputf8(make_app, api_key):
    # Retrying cannot help: the server does not offer SMTPUTF8.
    with smtp_server(enable_SMTPUTF8=False) as (inbox, port):
        message = _affiliate_mail(make_app, api_key, port, "jörg@aff.example")
    assert message.status == OutboxStatus.FAILED and message.attempts == 1
    assert "does not take non-ASCII addresses (no SMTPUTF8)" in message.last_error
    assert inbox.mails == []


def test_a_non_ascii_address_is_delivered_where_the_server_offers_smtputf8(make_app, api_key):
    with smtp_server(enable_SMTPUTF8=True) as (inbox, port):
        message = _affiliate_mail(make_app, api_key, port, "jörg@aff.example")
    assert message.status == OutboxStatus.DELIVERED
    assert [rcpts for rcpts, _mail in inbox.mails] == [["jörg@aff.example"]]


@pytest.mark.parametrize(("reply", "status"), [
    ("550 5.1.1 no such user", OutboxStatus.FAILED),  # for good: not tried again
    ("450 4.2.1 mailbox busy", OutboxStatus.PENDING),  # for now: tried again later
])
def test_a_refused_recipient_fails_for_good_only_on_a_5xx(make_app, api_key, reply, status):
    with refusing_smtp_server("gone@aff.example", reply) as port:
        message = _affiliate_mail(make_app, api_key, port, "gone@aff.example")
    assert message.status == status and message.attempts == 1
    assert reply.split()[0] in message.last_error


def test_commission_from_clickbank_intake_mails_with_vendor_variables(make_app):
    with smtp_server() as (inbox, port):
        app = _app(make_app, port)
        add_cb_account(app)
        add_product(app, sku="WIDGET-1", commission_rate=Decimal("10"))
        assert post_ins(app.test_client(), notification(affiliate="annie")).status_code == 200
        run_due(app)
    [to_admin] = inbox.to(ADMIN)
    assert "v1: campaign-7" in to_admin.get_payload()
    assert "Source: clickbank" in to_admin.get_payload()
    assert len(inbox.to("annie@aff.example")) == 1
