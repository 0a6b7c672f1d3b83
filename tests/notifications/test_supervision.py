"""``affsrv serve`` keeps its notification worker running, whatever folder it is started in,
and ``/healthz`` says when no worker is alive or notifications wait too long."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tests.clickbank.support import Receiver
from tests.notifications.support import opened
from tests.serving import Server, affsrv_output, set_up_merchant

SUBSCRIPTION_KEY = "SUBKEY123"


def _env(server_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**server_env, "AFFSRV_MAIL_ENABLED": "false",
            "AFFSRV_COMMISSIONS_REQUIRE_APPROVAL": "false",
            "AFFSRV_NOTIFICATIONS_ALLOW_PRIVATE": "127.0.0.0/8",  # the receiver's range
            **extra}


def _wait(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def _worker_pids(serve_pid: int) -> list[int]:
    """The ``affsrv worker`` processes ``affsrv serve`` (pid ``serve_pid``) runs."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == serve_pid and b"worker" in args:
            found.append(int(entry.name))
    return found


def _sale(server: Server, key: str, code: str, product: str, ref: str) -> None:
    answer = requests.post(f"{server.base}/api", timeout=10, json={
        "apikey": key, "affiliate": code,
        "commission": {"product": product, "saletotal": "20.00", "commtotal": "2.00",
                       "ref": ref}})
    assert answer.json()["status"] == "ok", answer.text


def _health(server: Server) -> tuple[int, dict]:
    answer = requests.get(f"{server.base}/healthz", timeout=10)
    return answer.status_code, answer.json()


def test_a_killed_worker_is_started_again_and_delivers(tmp_path, server_env):
    env = _env(server_env)
    merchant = set_up_merchant(tmp_path, env)
    receiver = Receiver()
    with receiver.running():
        affsrv_output(["notify", "add", "--url", receiver.url, "--secret-key",
                       SUBSCRIPTION_KEY], tmp_path, env)
        server = Server(tmp_path, env, with_worker=True)
        try:
            (first,) = _wait(lambda: _worker_pids(server.proc.pid), 30, "the worker")
            _wait(lambda: _health(server)[1]["worker"] == "ok", 30, "its heartbeat")
            os.kill(first, signal.SIGKILL)
            # Queued while no worker runs (or the new one is starting).
            _sale(server, merchant.key, merchant.code, merchant.product, "AFTER-KILL")
            (second,) = _wait(lambda: [p for p in _worker_pids(server.proc.pid)
                                       if p != first], 30, "a new worker")
            _wait(lambda: receiver.bodies, 30, "the notification")
            status, health = _health(server)
        finally:
            server.stop()
    assert opened(receiver.bodies[0], SUBSCRIPTION_KEY)["receipt"] == "AFTER-KILL"
    assert status == 200 and health["worker"] == "ok", health
    assert f"notification worker (pid {first}) killed by signal 9" in server.output
    assert f"notification worker started (pid {second})" in server.output
    # A clean stop of serve stops its worker too (nothing left behind).
    assert not Path(f"/proc/{second}").exists() or \
        "Z" in Path(f"/proc/{second}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_healthz_reports_a_dead_worker_and_503_once_a_notification_waits_too_long(
        tmp_path, server_env):
    env = _env(server_env, AFFSRV_HEALTH_MAX_DUE_SECONDS="3",
               AFFSRV_HEALTH_WORKER_STALE_SECONDS="5")
    merchant = set_up_merchant(tmp_path, env)
    receiver = Receiver()
    with receiver.running():
        affsrv_output(["notify", "add", "--url", receiver.url, "--secret-key",
                       SUBSCRIPTION_KEY], tmp_path, env)
        server = Server(tmp_path, env)  # --no-worker: a worker run on its own, then killed
        worker = subprocess.Popen([sys.executable, "-m", "affsrv", "worker"], cwd=tmp_path,
                                  env=env, stdout=subprocess.DEVNULL)
        try:
            _wait(lambda: _health(server)[1]["worker"] == "ok", 30, "the worker's heartbeat")
            worker.kill()
            worker.wait(10)
            status, down = _wait(
                lambda: (lambda answer: answer[1]["worker"] == "down" and answer)(
                    _health(server)), 20, "the worker reported down")
            assert status == 200  # a dead worker alone is reported, not a 503
            assert down["worker_seen_seconds"] >= 5

            _sale(server, merchant.key, merchant.code, merchant.product, "WAITING")
            status, waiting = _health(server)
            assert (status, waiting["status"], waiting["notifications_due"]) == (200, "ok", 1)
            status, late = _wait(
                lambda: (lambda answer: answer[0] == 503 and answer)(_health(server)), 20,
                "a 503")
            assert late["status"] == "error" and late["notifications"] == "late"
            assert late["oldest_due_seconds"] >= 3 and late["database"] == "ok"

            worker = subprocess.Popen([sys.executable, "-m", "affsrv", "worker"],
                                      cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
            _wait(lambda: receiver.bodies, 30, "the delivery")
            status, healthy = _wait(
                lambda: (lambda answer: answer[0] == 200 and answer)(_health(server)), 20,
                "a 200 again")
        finally:
            worker.terminate()
            worker.wait(20)
            server.stop()
    assert healthy["worker"] == "ok" and healthy["notifications_due"] == 0
    assert opened(receiver.bodies[0], SUBSCRIPTION_KEY)["receipt"] == "WAITING"


def test_the_worker_runs_the_same_package_whatever_the_working_folder_holds(
        tmp_path, server_env):
    """Started in a folder that holds another ``affsrv`` (a checkout, when the package was
    installed with ``pip install .``), serve's worker must not import that one."""
    decoy = tmp_path / "affsrv"
    decoy.mkdir()
    (decoy / "__init__.py").write_text(
        "raise SystemExit('the affsrv in the working folder was imported')\n")
    env = _env(server_env)
    merchant_folder = tmp_path / "merchant"
    merchant_folder.mkdir()
    merchant = set_up_merchant(merchant_folder, env)
    url = env["AFFSRV_DATABASE_URL"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # The default relative SQLite path, as seen from the merchant's folder.
        env["AFFSRV_DATABASE_URL"] = f"sqlite:///{merchant_folder / url[len('sqlite:///'):]}"
    env["AFFSRV_LOGS_DIR"] = str(merchant_folder / "logs")
    receiver = Receiver()
    with receiver.running():
        affsrv_output(["notify", "add", "--url", receiver.url, "--secret-key",
                       SUBSCRIPTION_KEY], merchant_folder, env)
        # serve itself is told to skip the working folder (-P) so that it can start here.
        server = Server(tmp_path, env, with_worker=True, python_flags=("-P",))
        try:
            _sale(server, merchant.key, merchant.code, merchant.product, "ELSEWHERE")
            _wait(lambda: receiver.bodies, 30, "the notification")
        finally:
            server.stop()
    assert opened(receiver.bodies[0], SUBSCRIPTION_KEY)["receipt"] == "ELSEWHERE"
    assert "working folder was imported" not in server.output
