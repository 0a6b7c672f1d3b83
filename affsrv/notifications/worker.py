"""The delivery worker loop: claim due outbox messages, deliver them, wait, repeat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from flask import Flask

from affsrv.backoff import backoff_seconds
from affsrv.extensions import db
from affsrv.logs import get_log

PRUNE_EVERY_SECONDS = 3600.0


def run_worker(app: Flask, stop: threading.Event, poll_seconds: float | None = None,
               max_cycles: int | None = None, max_seconds: float | None = None) -> int:
    """Deliver until ``stop`` is set (or ``max_cycles`` / ``max_seconds`` pass); the number of
    messages tried. A failing database is logged and retried after a pause, never fatal."""
    from affsrv.notifications.services import process_due, prune_outbox_as_configured

    poll = poll_seconds or app.config["AFFSRV"]["notifications"]["worker_poll_seconds"]
    started, cycles, tried, failures = time.monotonic(), 0, 0, 0
    next_prune = started  # old delivered/failed messages: deleted at start, then hourly
    while not stop.is_set():
        if max_cycles is not None and cycles >= max_cycles:
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
        cycles += 1
        count, failed = 0, False
        with app.app_context():
            try:
                if time.monotonic() >= next_prune:
                    prune_outbox_as_configured()
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                count = process_due()
            except Exception:  # noqa: BLE001 - e.g. the database is down: wait and retry
                failed = True
                db.session.rollback()
                get_log("general").error("notification worker cycle failed", exc_info=True)
            finally:
                db.session.remove()
        tried += count
        failures = failures + 1 if failed else 0
        if failed:
            # Back off while the database is unavailable (at most a minute between tries).
            stop.wait(backoff_seconds(poll, failures))
        elif count == 0:
            stop.wait(poll)
    return tried


def start_worker_process(extra_env: dict[str, str] | None = None) -> subprocess.Popen[Any]:
    """``affsrv worker`` as a child process (same interpreter, same configuration)."""
    code = "import sys; from affsrv.cli import main; sys.argv[0] = 'affsrv'; main()"
    env = {**os.environ, **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-c", code, "worker"], env=env)


def stop_worker_process(process: subprocess.Popen[Any], timeout: float = 15) -> int:
    """Ask the worker to finish its current delivery and exit; kill it if it will not."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode
