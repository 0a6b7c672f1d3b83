"""`affsrv serve` from an empty folder: schema, first API key, gunicorn on loopback."""

from __future__ import annotations

import gc
import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from affsrv.cli.serve import GunicornApp, exposure_warnings
from tests.conftest import BASE_URL, _is_postgres
from tests.serving import Server, affsrv_output, set_up_merchant


def test_serve_creates_schema_prints_key_once_and_serves(tmp_path, server_env):
    server = Server(tmp_path, server_env)
    try:
        code = affsrv_output(["affiliate", "add", "--email", "a@example.com", "--fname", "A",
                              "--lname", "B"], tmp_path, server_env)
        landing = requests.get(f"{server.base}/r/{code}", allow_redirects=False, timeout=5,
                               headers={"Referer": "https://blog.example/"})
        assert landing.status_code == 302
        assert landing.headers["Location"] == f"https://shop.example/?maff={code}"
        assert "HttpOnly" in landing.headers["Set-Cookie"]
    finally:
        server.stop()
    lines = server.output.splitlines()
    key_line = lines.index("A first API key was created. It is shown only this once; keep it:")
    key = lines[key_line + 1]
    assert key.startswith("affsrv_")
    assert "warning" not in server.output  # on loopback: nothing to warn about

    # The stopping workers wrote the buffered click; the key works; a restart prints no key.
    server = Server(tmp_path, server_env)
    try:
        answer = requests.post(f"{server.base}/api", timeout=5, json={
            "apikey": key, "affiliate": code, "data": {"op": "referrals"}}).json()
        assert answer == {"status": "ok", "data": {
            "0": {"referrers": [{"count": "1", "link": "https://blog.example/"}]}}}
    finally:
        server.stop()
    assert "API key" not in server.output
    if not _is_postgres(BASE_URL):
        assert (tmp_path / "var" / "affsrv.db").exists()


def test_serve_on_a_public_address_warns_about_slow_clients_and_forwarded_headers(
    tmp_path, server_env
):
    env = {**server_env, "AFFSRV_SERVER_TRUSTED_PROXIES": "1"}
    server = Server(tmp_path, env, host="0.0.0.0")
    try:
        assert requests.get(f"{server.base}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
    assert f"warning: listening on 0.0.0.0:{server.port}, beyond this machine." in server.output
    assert "deploy/nginx/affsrv.conf" in server.output
    assert "warning: server.trusted_proxies = 1" in server.output


@pytest.mark.parametrize(("bind", "proxies", "count"), [
    ("127.0.0.1:8000", 1, 0), ("127.8.9.10:8000", 0, 0), ("localhost:8000", 1, 0),
    ("[::1]:8000", 1, 0), ("unix:/run/affsrv.sock", 1, 0),
    ("0.0.0.0:8000", 0, 1), ("[::]:8000", 0, 1), ("192.0.2.7:80", 1, 2),
    ("affiliates.shop.example:8000", 0, 1),
])
def test_exposure_warnings_name_binds_beyond_this_machine(bind, proxies, count):
    assert len(exposure_warnings(bind, proxies)) == count


def test_a_worker_freezes_what_its_app_keeps_for_life():
    """Each worker builds its app, then moves every object then alive out of the cyclic
    collector's full passes (``gc.freeze``): they walked the app's modules and metadata and
    paused a long report 60 to 100 ms every few requests (docs/reports.md)."""
    kept = []
    gc.unfreeze()
    try:
        worker = GunicornApp({"bind": "127.0.0.1:0", "workers": 1},
                             lambda: kept.append([object() for _ in range(1000)]) or "the app")
        before = gc.get_freeze_count()
        assert worker.load() == "the app"
        assert gc.get_freeze_count() >= before + 1000
    finally:
        gc.unfreeze()


def test_serve_runs_the_notification_worker_by_default(tmp_path, server_env):
    from affsrv.clickbank.crypto import decrypt_envelope
    from tests.clickbank.support import Receiver

    receiver = Receiver()
    with receiver.running():
        env = {**server_env, "AFFSRV_MAIL_ENABLED": "false",
               "AFFSRV_COMMISSIONS_REQUIRE_APPROVAL": "false",
               "AFFSRV_NOTIFICATIONS_ALLOW_PRIVATE": "127.0.0.0/8"}  # the receiver's range
        merchant = set_up_merchant(tmp_path, env)
        key, code, pid = merchant.key, merchant.code, merchant.product
        affsrv_output(["notify", "add", "--url", receiver.url, "--secret-key", "SUBKEY123"],
                      tmp_path, env)
        server = Server(tmp_path, env, with_worker=True)
        try:
            r = requests.post(f"{server.base}/api", timeout=5, json={
                "apikey": key, "affiliate": code,
                "commission": {"product": pid, "saletotal": "20.00", "commtotal": "2.00",
                               "ref": "SRV-1"}})
            assert r.json()["status"] == "ok"
            deadline = time.monotonic() + 30
            while not receiver.bodies and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            server.stop()
    assert receiver.bodies, server.output
    sent = json.loads(decrypt_envelope(receiver.bodies[0], "SUBKEY123"))
    assert (sent["transactionType"], sent["receipt"], sent["attemptCount"]) == (
        "SALE", "SRV-1", 1)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            # The command name is in parentheses and may hold spaces: fields follow the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_hard_crash_loses_only_the_clicks_of_the_last_flush_interval(tmp_path, server_env):
    """The README's bound: a worker killed outright (SIGKILL, OOM) loses at most the clicks it
    received in the last `click_flush_ms`; every click older than that is already stored."""
    env = {**server_env, "AFFSRV_TRACKING_CLICK_FLUSH_MS": "500"}
    merchant = set_up_merchant(tmp_path, env)
    key, code = merchant.key, merchant.code
    server = Server(tmp_path, env)
    try:
        def land(referer: str) -> None:
            r = requests.get(f"{server.base}/r/{code}", allow_redirects=False, timeout=5,
                             headers={"Referer": referer})
            assert r.status_code == 302

        for _ in range(30):
            land("https://blog.example/early")
        time.sleep(2.5)  # five flush intervals
        for _ in range(30):
            land("https://blog.example/late")
        workers = _children(server.proc.pid)
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60  # gunicorn's master starts new workers
        while time.monotonic() < deadline:
            replaced = set(_children(server.proc.pid))
            if len(replaced) == 2 and not replaced & set(workers):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not replace its killed workers")
        answer = requests.post(f"{server.base}/api", timeout=10, json={
            "apikey": key, "affiliate": code, "data": {"op": "referrals"}}).json()
    finally:
        server.stop()
    counts = {r["link"]: int(r["count"]) for r in answer["data"]["0"]["referrers"]}
    assert counts["https://blog.example/early"] == 30, counts
    assert counts.get("https://blog.example/late", 0) <= 30
