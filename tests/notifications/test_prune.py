"""The outbox does not grow for ever: delivered and failed messages older than
``[notifications] keep_days`` are deleted, by the worker (about once an hour) and by
``affsrv notify prune``; pending messages are never deleted, however old."""

from __future__ import annotations

import threading
from datetime import timedelta

from affsrv.db.types import utcnow
from affsrv.extensions import db
from affsrv.notifications.models import OutboxKind, OutboxMessage, OutboxStatus
from affsrv.notifications.services import prune_outbox
from affsrv.notifications.worker import run_worker
from tests.clickbank.support import run_cli
from tests.notifications.support import messages


def _message(app, status: str, age_days: float) -> int:
    with app.app_context():
        message = OutboxMessage(
            kind=OutboxKind.EMAIL, payload={"to": "a@example.com", "subject": "s", "body": "b"},
            summary="affiliate", status=status,
            created_at=utcnow() - timedelta(days=age_days),
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def _outbox(app) -> list[tuple[int, str]]:
    return [(m.id, m.status) for m in messages(app)]


def _fixture(app) -> dict[str, int]:
    return {
        "old delivered": _message(app, OutboxStatus.DELIVERED, 40),
        "old failed": _message(app, OutboxStatus.FAILED, 40),
        "old pending": _message(app, OutboxStatus.PENDING, 400),
        "new delivered": _message(app, OutboxStatus.DELIVERED, 20),
        "new failed": _message(app, OutboxStatus.FAILED, 1),
    }


def test_prune_deletes_only_finished_messages_older_than_the_limit(app):
    ids = _fixture(app)
    with app.app_context():
        assert prune_outbox(timedelta(days=30), batch=1) == 2  # batches of one: loops
    kept = {ids[name] for name in ("old pending", "new delivered", "new failed")}
    assert {message_id for message_id, _ in _outbox(app)} == kept
    with app.app_context():
        assert prune_outbox(timedelta(days=30)) == 0


def test_notify_prune_command(make_app):
    app = make_app(notifications={"keep_days": 30})
    ids = _fixture(app)
    result = run_cli(app, "notify", "prune")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "2 messages deleted (delivered or failed, older than 30 days)")
    result = run_cli(app, "notify", "prune", "--days", "10")
    assert result.output.splitlines()[-1].startswith("1 message deleted")
    assert {i for i, _ in _outbox(app)} == {ids["old pending"], ids["new failed"]}
    bad = run_cli(app, "notify", "prune", "--days", "0")
    assert bad.exit_code != 0 and "--days" in bad.output


def test_worker_prunes_with_the_configured_limit(make_app):
    app = make_app(notifications={"keep_days": 30}, mail={"enabled": False})
    ids = _fixture(app)
    run_worker(app, threading.Event(), poll_seconds=0.01, max_cycles=1)
    assert {i for i, _ in _outbox(app)} == {
        ids["old pending"], ids["new delivered"], ids["new failed"]}


def test_keep_days_zero_keeps_everything(make_app):
    app = make_app(notifications={"keep_days": 0}, mail={"enabled": False})
    ids = _fixture(app)
    run_worker(app, threading.Event(), poll_seconds=0.01, max_cycles=1)
    assert {i for i, _ in _outbox(app)} == set(ids.values())
