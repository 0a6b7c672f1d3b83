"""Receivers must be public addresses: ``affsrv notify add`` refuses the others, and the worker
does not contact a receiver whose address is not public (or allowed) when it delivers. What a
failed delivery logs shows no credentials and no query string."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from affsrv.config import DEFAULTS, ConfigError, load_settings
from affsrv.notifications.models import OutboxStatus
from tests.clickbank.support import Receiver, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import messages, run_due, subscribe
from tests.serving import run_affsrv

REFUSED = [
    # (URL, what the message says the host is or resolves to)
    ("http://169.254.169.254/latest/meta-data/", "url: 169.254.169.254 is not a public"),
    ("http://localhost:8080/ins", "localhost resolves to"),  # 127.0.0.1 (or ::1)
    ("http://127.0.0.1/ins", "127.0.0.1"),
    ("http://[::1]/ins", "::1"),
    ("http://0x7f000001/ins", "resolves to 127.0.0.1"),  # hexadecimal IPv4
    ("http://2130706433/ins", "resolves to 127.0.0.1"),  # decimal IPv4
    ("http://017700000001/ins", "resolves to 127.0.0.1"),  # octal IPv4
    ("http://127.1/ins", "resolves to 127.0.0.1"),  # short IPv4
    ("http://[::ffff:127.0.0.1]/ins", "::ffff:127.0.0.1"),  # IPv4-mapped IPv6
    ("http://[::ffff:a9fe:a9fe]/ins", "::ffff:a9fe:a9fe"),  # mapped metadata address
    ("http://[::127.0.0.1]/ins", "::127.0.0.1 is not"),  # IPv4-compatible IPv6
    ("http://[64:ff9b::a9fe:a9fe]/ins", "64:ff9b::a9fe:a9fe"),  # NAT64 of 169.254.169.254
    ("http://[2002:7f00:1::]/ins", "2002:7f00:1::"),  # 6to4 of 127.0.0.1
    ("http://10.1.2.3/ins", "10.1.2.3"),
    ("http://192.168.0.10/ins", "192.168.0.10"),
    ("http://172.16.5.4/ins", "172.16.5.4"),
    ("http://100.64.0.1/ins", "100.64.0.1"),  # shared address space (carrier NAT)
    ("http://0.0.0.0/ins", "0.0.0.0"),
    ("http://[fd00::1]/ins", "fd00::1"),
    ("http://[fe80::1]/ins", "fe80::1"),
    ("https://user:pw@127.0.0.1:8443/ins?token=abc", "127.0.0.1"),
]


@pytest.fixture
def default_app(make_app):
    """The shipped default: no private range allowed (the test fixture allows loopback)."""
    app = make_app(notifications={"allow_private": []})
    assert app.config["AFFSRV"]["notifications"]["allow_private"] == \
        DEFAULTS["notifications"]["allow_private"] == []
    return app


@pytest.mark.parametrize(("url", "named"), REFUSED)
def test_notify_add_refuses_non_public_destinations(default_app, url, named):
    result = run_cli(default_app, "notify", "add", "--url", url, "--secret-key", "KEY1")
    assert result.exit_code == 1, result.output
    assert "not a public address" in result.output and named in result.output, result.output
    assert "allow_private" in result.output
    assert "token=abc" not in result.output and "pw@" not in result.output
    assert "subscription" not in run_cli(default_app, "notify", "list").output.split("\n", 2)[-1]


@pytest.mark.parametrize("url", [
    "http://shop.example/ins x", "http://shop.example/i ns", "http://shop .example/ins",
    "http://shop.example/ins\n", "http://shop.example/\tins", "http://shop.example/\x00",
    "http://shop.example/\x7f", "http://shop.example/\u2028",
])
def test_notify_add_refuses_spaces_and_control_characters(default_app, url):
    result = run_cli(default_app, "notify", "add", "--url", url, "--secret-key", "KEY1")
    assert result.exit_code == 1
    assert "must not contain spaces or control characters" in result.output, result.output


def test_public_and_unresolvable_names_are_accepted(default_app):
    for url in ("https://93.184.215.14/ins", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
                "https://merchant.example/ins"):  # .example does not resolve: checked later
        result = run_cli(default_app, "notify", "add", "--url", url, "--secret-key", "KEY1")
        assert result.exit_code == 0, (url, result.output)


def test_an_allowed_private_range_is_accepted_and_only_that_range(make_app):
    app = make_app(notifications={"allow_private": ["127.0.0.0/8", "::1/128"]})
    ok = run_cli(app, "notify", "add", "--url", "http://localhost:9/ins", "--secret-key", "K1")
    assert ok.exit_code == 0, ok.output
    mapped = run_cli(app, "notify", "add", "--url", "http://[::ffff:127.0.0.1]:9/",
                     "--secret-key", "K1")
    assert mapped.exit_code == 0, mapped.output
    other = run_cli(app, "notify", "add", "--url", "http://10.0.0.1/", "--secret-key", "K1")
    assert other.exit_code == 1 and "not a public address" in other.output


def test_the_shipped_configuration_refuses_loopback(tmp_path, server_env):
    """``affsrv notify add`` as an operator runs it, configured by nothing at all."""
    assert run_affsrv(["db", "upgrade"], tmp_path, server_env).returncode == 0
    done = run_affsrv(["notify", "add", "--url", "http://0x7f000001:8000/ins"], tmp_path,
                      server_env)
    assert done.returncode == 1
    assert "0x7f000001 resolves to 127.0.0.1, which is not a public address" in done.stderr


@pytest.mark.parametrize(("value", "message"), [
    (["127.0.0.1/8"], "has host bits set"),
    (["localhost"], "must be an IP network"),
    (["0.0.0.0/0"], "whole address space"),
    (["::/0"], "whole address space"),
    ([1], "list of strings"),
    ("127.0.0.0/8", "expected list"),
])
def test_allow_private_is_validated(value, message, tmp_path):
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(environ={}, overrides={"notifications": {"allow_private": value}})
    assert "notifications.allow_private" in str(caught.value)


def test_allow_private_from_the_environment():
    settings = load_settings(environ={
        "AFFSRV_NOTIFICATIONS_ALLOW_PRIVATE": "10.20.0.0/16, fd00::/8"})
    assert settings["notifications"]["allow_private"] == ["10.20.0.0/16", "fd00::/8"]
    with pytest.raises(ConfigError, match="notifications.allow_private"):
        load_settings(environ={"AFFSRV_NOTIFICATIONS_ALLOW_PRIVATE": "10.20.0.0/33"})


def _sale(app, api_key, ref):
    code = add_affiliate(app, code=f"a{ref.lower()}")
    r = api(app.test_client(), api_key, code, commission={
        "product": add_product(app), "saletotal": "10.00", "commtotal": "1.00", "ref": ref})
    assert r.status_code == 200, r.json


def _general_log(app) -> list[dict]:
    path = Path(app.config["AFFSRV"]["logs"]["dir"]) / "general.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_destination_no_longer_allowed_is_not_contacted(make_app, api_key):
    """Allowed when added; the operator then drops the range and restarts: the worker refuses
    to connect (the check is made again at delivery), records why and says so in the log."""
    shop = dict(commissions={"require_approval": False}, mail={"enabled": False})
    receiver = Receiver()
    with receiver.running():
        loopback = {"allow_private": ["127.0.0.0/8", "::1/128"]}  # localhost may be ::1 too
        before = make_app(**shop, notifications=loopback)
        subscribe(before, receiver.url.replace("127.0.0.1", "localhost") + "?token=s3cret")
        _sale(before, api_key, "P1")
        after = make_app(**shop, notifications={"allow_private": []})  # restarted
        assert run_due(after) == 1
        assert receiver.bodies == []  # never contacted
        (message,) = messages(after)
        assert message.status == OutboxStatus.FAILED  # a refusal is not retried
        assert "localhost resolves to" in message.last_error
        assert "127.0.0.1" in message.last_error and "not a public address" in message.last_error
        assert "s3cret" not in message.last_error
        (logged,) = [e for e in _general_log(after)
                     if e["event"] == "notification delivery failed"]
        assert "not contacted" in logged["error"] and "s3cret" not in json.dumps(logged)
        # Allowed again and retried, it is delivered: the range alone made the refusal.
        allowed = make_app(**shop, notifications=loopback)
        assert run_cli(allowed, "notify", "retry", "--all").exit_code == 0
        assert run_due(allowed) == 1
        assert len(receiver.bodies) == 1


def test_failed_deliveries_log_no_credentials_or_query(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   notifications={"allow_private": ["127.0.0.0/8"], "timeout_seconds": 1})
    refusing = Receiver(statuses=[500])
    with refusing.running():
        port = refusing.url.split(":")[2].split("/")[0]
        subscribe(app, f"http://hook-user:hook-pass@127.0.0.1:{port}/ins?token=s3cret#frag")
        closed = "http://u2:p2@127.0.0.1:9/closed/path?sig=t0psecret"
        subscribe(app, closed, key="OTHERKEY1")
        _sale(app, api_key, "R1")
        assert run_due(app) == 2
    assert len(refusing.bodies) == 1
    errors = sorted(m.last_error for m in messages(app))
    logged = [e for e in _general_log(app) if e["event"] == "notification delivery failed"]
    text = json.dumps(logged) + "".join(errors)
    assert len(logged) == 2
    for secret in ("hook-user", "hook-pass", "s3cret", "frag", "u2:", "p2@", "sig=", "t0psecret"):
        assert secret not in text, secret
    assert f"HTTP 500 from http://127.0.0.1:{port}/ins" in text
    assert "ConnectionError" in text and "/closed/path" in text
