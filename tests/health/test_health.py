"""``GET /healthz``: what a load balancer or monitor asks of each worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from affsrv.db.types import utcnow
from affsrv.extensions import db
from affsrv.notifications.models import OutboxMessage
from tests.clickbank.support import closed_port
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import run_due, subscribe


def test_a_healthy_worker_answers_200(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "database": "ok", "clicks_waiting": 0,
                                 "notifications_due": 0, "oldest_due_seconds": 0,
                                 "notifications": "ok", "worker": "down",
                                 "worker_seen_seconds": None}


def test_an_unreachable_database_answers_503_in_the_same_shape(app, make_app):
    # Nothing listens on port 1: every connection attempt fails as if the server were down.
    down = make_app(database={"url": "postgresql://postgres@127.0.0.1:1/affsrv"})
    answer = down.test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "error", "database": "unavailable",
                                 "clicks_waiting": 0, "notifications_due": None,
                                 "oldest_due_seconds": None, "notifications": "unknown",
                                 "worker": "unknown", "worker_seen_seconds": None}


def test_clicks_waiting_for_the_next_flush_are_counted(make_app):
    app = make_app(tracking={"click_flush_ms": 60_000})
    client = app.test_client()
    code = add_affiliate(app)
    for _ in range(3):
        assert client.get(f"/r/{code}").status_code == 302
    assert client.get("/healthz").get_json()["clicks_waiting"] == 3
    assert app.extensions["click_buffer"].flush() == 3
    assert client.get("/healthz").get_json()["clicks_waiting"] == 0


def test_undelivered_notifications_show_how_long_the_oldest_has_waited(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   health={"max_due_seconds": 0})  # no limit: reported, never a 503
    client = app.test_client()
    code, pid = add_affiliate(app), add_product(app)
    subscribe(app, f"http://127.0.0.1:{closed_port()}/ins")
    for ref in ("A", "B"):
        assert api(client, api_key, code, commission={
            "product": pid, "saletotal": "10.00", "commtotal": "1.00", "ref": ref,
        }).status_code == 200
    with app.app_context():  # as if no worker had run for ten minutes
        db.session.execute(update(OutboxMessage).values(
            next_attempt_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["notifications_due"] == 2
    assert 600 <= health["oldest_due_seconds"] < 700
    assert run_due(app) == 2  # a worker tries them (the receiver is down): due again later
    health = client.get("/healthz").get_json()
    assert (health["notifications_due"], health["oldest_due_seconds"]) == (0, 0)


def _queue_old_notification(app, api_key, minutes):
    code, pid = add_affiliate(app), add_product(app)
    subscribe(app, f"http://127.0.0.1:{closed_port()}/ins")
    assert api(app.test_client(), api_key, code, commission={
        "product": pid, "saletotal": "10.00", "commtotal": "1.00", "ref": "OLD",
    }).status_code == 200
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(
            next_attempt_at=utcnow() - timedelta(minutes=minutes)))
        db.session.commit()


def test_a_notification_due_longer_than_the_limit_answers_503(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False},
                   health={"max_due_seconds": 600})
    _queue_old_notification(app, api_key, minutes=9)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200 and answer.get_json()["notifications"] == "ok"
    _queue_old_notification(app, api_key, minutes=11)
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503
    health = answer.get_json()
    assert (health["status"], health["database"], health["notifications"]) == (
        "error", "ok", "late")
    assert health["notifications_due"] == 3 and 660 <= health["oldest_due_seconds"] < 760


def test_a_running_worker_is_reported_alive_then_down(make_app):
    import threading
    import time

    from affsrv.notifications.models import WorkerHeartbeat
    from affsrv.notifications.worker import run_worker

    app = make_app(health={"worker_stale_seconds": 5})
    client = app.test_client()
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(app, stop),
                              kwargs={"poll_seconds": 0.05, "max_seconds": 30})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while client.get("/healthz").get_json()["worker"] != "ok":
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        health = client.get("/healthz").get_json()
        assert health["worker_seen_seconds"] <= 5
    finally:
        stop.set()
        thread.join(10)
    health = client.get("/healthz").get_json()  # a clean stop says so at once
    assert (health["worker"], health["worker_seen_seconds"]) == ("down", None)
    with app.app_context():  # a worker that died (no clean stop) six seconds ago
        db.session.add(WorkerHeartbeat(worker="elsewhere:1", started_at=utcnow(),
                                       beat_at=utcnow() - timedelta(seconds=6)))
        db.session.commit()
    health = client.get("/healthz").get_json()
    assert health["worker"] == "down" and health["worker_seen_seconds"] == 6
    assert health["status"] == "ok"  # reported; the 503 comes from what waits
