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
