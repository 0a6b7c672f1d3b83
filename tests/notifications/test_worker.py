"""The worker loop, and ``affsrv worker`` as the separate process ``affsrv serve`` starts."""

import json
import threading
import time
from pathlib import Path

from affsrv.notifications.models import OutboxStatus
from affsrv.notifications.worker import run_worker, start_worker_process, stop_worker_process
from tests.clickbank.support import Receiver, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import messages, opened, subscribe


def _sale(app, key):
    code = add_affiliate(app, code="annie")
    r = api(app.test_client(), key, code, commission={
        "product": add_product(app), "saletotal": "10.00", "commtotal": "1.00", "ref": "W1"})
    assert r.status_code == 200, r.json


def test_run_worker_delivers_then_stops_when_asked(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    receiver = Receiver()
    with receiver.running():
        subscribe(app, receiver.url)
        _sale(app, api_key)
        stop = threading.Event()
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(run_worker(app, stop, poll_seconds=0.05,
                                                    max_seconds=30)))
        thread.start()
        deadline = time.monotonic() + 20
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and result == [1]
    assert opened(receiver.bodies[0])["receipt"] == "W1"


def test_run_worker_is_bounded_and_survives_a_database_outage(app, make_app):
    down = make_app(database={"url": "postgresql://postgres@127.0.0.1:1/affsrv"})
    started = time.monotonic()
    assert run_worker(down, threading.Event(), poll_seconds=0.01, max_cycles=3) == 0
    assert time.monotonic() - started < 30
    log = Path(down.config["AFFSRV"]["logs"]["dir"]) / "general.log"
    failures = [json.loads(line) for line in log.read_text().splitlines()]
    assert [f["event"] for f in failures] == ["notification worker cycle failed"] * 3


def test_worker_process_delivers_and_stops_on_sigterm(make_app, api_key, tmp_path):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    settings = app.config["AFFSRV"]
    config = tmp_path / "affsrv.toml"
    config.write_text(
        f'[logs]\ndir = "{settings["logs"]["dir"]}"\n'
        "[commissions]\nrequire_approval = false\n"
        "[mail]\nenabled = false\n"
        '[notifications]\nallow_private = ["127.0.0.0/8"]\n'  # the receiver is on loopback
    )
    receiver = Receiver()
    with receiver.running():
        subscribe(app, receiver.url)
        _sale(app, api_key)
        process = start_worker_process({
            "AFFSRV_CONFIG": str(config),
            "AFFSRV_DATABASE_URL": settings["database"]["url"],
        })
        try:
            deadline = time.monotonic() + 30
            while not receiver.bodies and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            code = stop_worker_process(process, timeout=15)
    assert code == 0  # a clean stop, not a kill
    assert [opened(b)["receipt"] for b in receiver.bodies] == ["W1"]
    assert messages(app)[0].status == OutboxStatus.DELIVERED


def test_serve_has_a_no_worker_switch(app):
    result = run_cli(app, "serve", "--help")
    assert result.exit_code == 0 and "--no-worker" in result.output
    assert run_cli(app, "worker", "--help").exit_code == 0


def test_worker_backs_off_while_the_database_is_down(app, make_app):
    down = make_app(database={"url": "postgresql://postgres@127.0.0.1:1/affsrv"})
    started = time.monotonic()
    run_worker(down, threading.Event(), poll_seconds=0.1, max_cycles=3)
    # 0.2 + 0.4 + 0.8 s of waiting, not 3 x 0.1 s.
    assert time.monotonic() - started >= 1.3
