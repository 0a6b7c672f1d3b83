"""Builders for ClickBank notification tests: notifications, encryption, posting."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock, Thread
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient

from affsrv.clickbank.crypto import encrypt_payload
from affsrv.clickbank.services import add_account

SECRET = "MYSECRETKEY12345"
ACCOUNT = "myvendor"


def add_cb_account(app: Flask, nickname: str = ACCOUNT, secret: str = SECRET,
                   legacy_cverify: bool = False) -> None:
    with app.app_context():
        add_account(nickname, secret, legacy_cverify=legacy_cverify)


def notification(**overrides: Any) -> dict[str, Any]:
    """A complete 6.0 SALE as ClickBank sends it; ``overrides`` replace top-level fields."""
    base: dict[str, Any] = {
        "transactionTime": "2024-03-05T14:30:00-05:00",
        "receipt": "ABCD1234",
        "transactionType": "SALE",
        "vendor": ACCOUNT,
        "affiliate": "",
        "role": "VENDOR",
        "totalAccountAmount": 40.05,
        "paymentMethod": "VISA",
        "totalOrderAmount": 49.95,
        "totalTaxAmount": 0.00,
        "totalShippingAmount": 5.00,
        "currency": "USD",
        "orderLanguage": "EN",
        "trackingCodes": ["fb-ads", "spring"],
        "declinedConsent": False,
        "lineItems": [{
            "itemNo": "WIDGET-1", "productTitle": "The Widget Course", "shippable": True,
            "recurring": False, "accountAmount": 40.05, "quantity": 1,
            "downloadUrl": "https://dl.example/w", "lineItemType": "ORIGINAL",
            "productPrice": 49.95, "productDiscount": 0.00, "taxAmount": 0.00,
            "shippingAmount": 5.00, "shippingLiable": False, "jvPayout": 0.00,
            "affiliatePayout": 12.00,
        }],
        "customer": {
            "shipping": {"firstName": "Mary", "lastName": "Major", "fullName": "Mary Major",
                         "phoneNumber": "+1 555 0100", "email": "mary@buyer.example",
                         "address": {"address1": "1 Ship St", "address2": "Apt 2",
                                     "city": "Boise", "county": "Ada", "state": "ID",
                                     "postalCode": "83702", "country": "US"}},
            "billing": {"firstName": "Mary", "lastName": "Major", "fullName": "Mary Major",
                        "phoneNumber": "+1 555 0100", "email": "mary@billing.example",
                        "address": {"address1": "9 Bill Ave", "city": "Denver", "state": "CO",
                                    "postalCode": "80202", "country": "us"}},
        },
        "upsell": {"upsellOriginalReceipt": "", "upsellFlowId": 0},
        "hopfeed": {"hopfeedClickId": "h1"},
        "vendorVariables": {"v1": "campaign-7", "tid": "abc"},
        "version": 6.0,
        "attemptCount": 1,
    }
    base = copy.deepcopy(base)
    base.update(overrides)
    return base


def encrypt(document: dict[str, Any] | str, secret: str = SECRET) -> dict[str, str]:
    text = document if isinstance(document, str) else json.dumps(document)
    return encrypt_payload(text, secret)


def post_ins(client: FlaskClient, document: dict[str, Any] | str, secret: str = SECRET,
             account: str = ACCOUNT) -> Any:
    return client.post(f"/ins/clickbank/{account}", json=encrypt(document, secret))


def legacy_fields(secret: str = SECRET, **overrides: str) -> dict[str, str]:
    """A version 4.0 form post with its cverify computed as the reference describes."""
    fields = {
        "cnoticeversion": "4.0", "ctransreceipt": "LEGACY01", "ctransaction": "SALE",
        "ctransvendor": ACCOUNT, "ctransaffiliate": "", "ctransrole": "VENDOR",
        "ctranspaymentmethod": "MSTR", "caccountamount": "2995", "corderamount": "3495",
        "ctranstime": "1700000000", "ctid": "tid-9", "cvendthru": "v1=a&v2=b",
        "cproditem": "WIDGET-1", "cprodtitle": "The Widget Course", "cprodtype": "STANDARD",
        "ccustfirstname": "Lou", "ccustlastname": "Smith", "ccustname": "Lou Smith",
        "ccustemail": "lou@buyer.example", "ccustcc": "CA", "ccuststate": "ON",
        "ccustzip": "M5V 2T6", "cupsellreceipt": "",
    }
    fields.update(overrides)
    # The reference's recipe, written out independently of affsrv's own implementation.
    pop = "".join(fields[name] + "|" for name in sorted(fields)) + secret
    fields["cverify"] = hashlib.sha1(pop.encode("utf-8")).hexdigest()[:8].upper()
    return fields


def post_legacy(client: FlaskClient, fields: dict[str, str], account: str = ACCOUNT) -> Any:
    return client.post(f"/ins/clickbank/{account}", data=urlencode(fields),
                       content_type="application/x-www-form-urlencoded")


class Receiver:
    """An HTTP receiver on 127.0.0.1 recording every POST; answers ``statuses`` in turn
    (then 200)."""

    def __init__(self, statuses: list[int] | None = None, port: int = 0) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict[str, Any]] = []
        self.lock = Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.bodies.append(body)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ins"
        self.thread = Thread(target=self.server.serve_forever, daemon=True)

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def run_cli(app: Flask, *args: str) -> Any:
    """Run an ``affsrv`` command against ``app``."""
    from affsrv.cli import cli

    return app.test_cli_runner().invoke(cli, args=list(args))


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
