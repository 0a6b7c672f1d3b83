"""The delivery worker loop: claim due outbox messages, deliver them, wait, repeat; and its
supervision: ``affsrv serve`` starts it as a separate process and starts it again (after a
growing pause) whenever it dies.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from affsrv.backoff import backoff_seconds
from affsrv.db.types import utcnow
from affsrv.extensions import db
from affsrv.logs import get_log

PRUNE_EVERY_SECONDS = 3600.0
#: How often a busy or idle worker writes its heartbeat (``[health] worker_stale_seconds``
#: must be well above it).
HEARTBEAT_SECONDS = 5.0


def run_worker(app: Flask, stop: threading.Event, poll_seconds: float | None = None,
               max_cycles: int | None = None, max_seconds: float | None = None) -> int:
    """Deliver until ``stop`` is set (or ``max_cycles`` / ``max_seconds`` pass); the number of
    messages tried. A failing database is logged and retried after a pause, never fatal."""
    from affsrv.notifications.services import (
        drop_heartbeat,
        process_due,
        prune_outbox_as_configured,
        record_heartbeat,
    )

    poll = poll_seconds or app.config["AFFSRV"]["notifications"]["worker_poll_seconds"]
    started, cycles, tried, failures = time.monotonic(), 0, 0, 0
    next_prune = started  # old delivered/failed messages: deleted at start, then hourly
    name, started_at, next_beat = f"{socket.gethostname()}:{os.getpid()}"[:200], utcnow(), 0.0

    def alive() -> None:
        nonlocal next_beat
        if time.monotonic() >= next_beat:
            record_heartbeat(name, started_at)
            next_beat = time.monotonic() + HEARTBEAT_SECONDS

    while not stop.is_set():
        if max_cycles is not None and cycles >= max_cycles:
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
        cycles += 1
        count, failed = 0, False
        with app.app_context():
            try:
                alive()
                if time.monotonic() >= next_prune:
                    prune_outbox_as_configured()
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                count = process_due(alive=alive)
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
    with app.app_context():
        try:
            drop_heartbeat(name)
        except Exception:  # noqa: BLE001 - stopping anyway; the row ages out
            db.session.rollback()
        finally:
            db.session.remove()
    return tried


def worker_command() -> list[str]:
    """``affsrv worker`` run by this interpreter. ``-P`` keeps the working folder off the
    import path (``-c`` and ``-m`` would put it first: started in a checkout, the child would
    import the checkout instead of the installed package); the folder this process's own
    ``affsrv`` came from is put first instead (PYTHONPATH), so parent and child run the same
    code wherever they are started."""
    return [sys.executable, "-P", "-m", "affsrv", "worker"]


def start_worker_process(extra_env: dict[str, str] | None = None) -> subprocess.Popen[Any]:
    """``affsrv worker`` as a child process (same interpreter, same package, same
    configuration)."""
    env = {**os.environ, **(extra_env or {})}
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding affsrv/
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.Popen(worker_command(), env=env)


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


#: A worker that ran this long before dying counts as having started fine (the next death
#: restarts it after the shortest pause again).
STABLE_SECONDS = 60.0
#: The pause before the first restart; doubled per quick death in a row, at most a minute.
FIRST_RESTART_SECONDS = 0.5


class WorkerSupervisor:
    """Keeps one worker process running: ``check()`` (called often, e.g. from gunicorn's
    master loop) notices a dead worker and starts a new one after a pause that doubles with
    each death in a row (``affsrv.backoff``), so a worker that cannot start does not spin."""

    def __init__(self, start: Callable[[], subprocess.Popen[Any]] = start_worker_process,
                 report: Callable[[str, bool], None] = lambda message, _problem: print(message),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._start, self._report, self._clock = start, report, clock
        self.process: subprocess.Popen[Any] | None = None
        self.started_at = 0.0
        self.quick_deaths = 0
        self.restart_at: float | None = None
        self.restarts = 0
        self.stopped = False

    def start(self) -> subprocess.Popen[Any]:
        self.process = self._start()
        self.started_at = self._clock()
        self.restart_at = None
        self._report(f"notification worker started (pid {self.process.pid})", False)
        return self.process

    def check(self) -> None:
        """Start the worker again if it died and its pause is over."""
        if self.stopped:
            return
        now = self._clock()
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            lived = now - self.started_at
            self.quick_deaths = self.quick_deaths + 1 if lived < STABLE_SECONDS else 1
            pause = backoff_seconds(FIRST_RESTART_SECONDS, self.quick_deaths - 1)
            how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
            self._report(f"notification worker (pid {self.process.pid}) {how} after "
                         f"{lived:.0f} s; starting it again in {pause:g} s", True)
            self.process, self.restart_at = None, now + pause
        if self.process is None and self.restart_at is not None and now >= self.restart_at:
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 15) -> int | None:
        """Stop the worker for good (no restart)."""
        self.stopped, self.restart_at = True, None
        process, self.process = self.process, None
        return None if process is None else stop_worker_process(process, timeout)
