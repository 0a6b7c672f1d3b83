"""SMTP over STARTTLS and SSL, with the server's certificate verified."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from affsrv.notifications.models import OutboxStatus
from tests.helpers import add_product
from tests.notifications.support import messages, run_due
from tests.notifications.test_mail import _app, _commission, smtp_server


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    return context


def test_starttls(make_app, api_key, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    context = _server_context(certificate)
    with smtp_server(tls_context=context, require_starttls=True) as (inbox, port):
        app = _app(make_app, port, security="starttls", admin="")
        _commission(app, api_key, add_product(app))
        assert run_due(app) == 1
    assert [rcpts for rcpts, _ in inbox.mails] == [["annie@aff.example"]]


def test_ssl(make_app, api_key, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    context = _server_context(certificate)
    with smtp_server(ssl_context=context) as (inbox, port):
        app = _app(make_app, port, security="ssl", admin="")
        _commission(app, api_key, add_product(app))
        assert run_due(app) == 1
    assert [rcpts for rcpts, _ in inbox.mails] == [["annie@aff.example"]]


def test_untrusted_certificate_is_refused(make_app, api_key, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0].with_name("none.pem")))
    context = _server_context(certificate)
    with smtp_server(tls_context=context, require_starttls=True) as (inbox, port):
        app = _app(make_app, port, security="starttls", admin="")
        _commission(app, api_key, add_product(app))
        assert run_due(app) == 1
    assert inbox.mails == []
    [message] = messages(app, "email")
    assert message.status == OutboxStatus.PENDING and "CERTIFICATE_VERIFY_FAILED" in (
        message.last_error)
