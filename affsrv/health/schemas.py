"""The health check's answer."""

from __future__ import annotations

from marshmallow import Schema, fields

from affsrv.health.services import Health


def _seconds(value: float | None) -> int | None:
    return None if value is None else int(value)


def _notifications(health: Health) -> str:
    if health.notifications_due is None:
        return "unknown"
    return "late" if health.notifications_late else "ok"


def _worker(health: Health) -> str:
    if not health.database:
        return "unknown"
    return "ok" if health.worker_alive else "down"


class HealthSchema(Schema):
    status = fields.Function(lambda health: "ok" if health.ok else "error")
    database = fields.Function(lambda health: "ok" if health.database else "unavailable")
    clicks_waiting = fields.Integer()
    notifications_due = fields.Integer(allow_none=True)
    oldest_due_seconds = fields.Function(lambda health: _seconds(health.oldest_due_seconds))
    # "late" (and a 503) once oldest_due_seconds passes [health] max_due_seconds.
    notifications = fields.Function(_notifications)
    # "ok" while a delivery worker's heartbeat is at most [health] worker_stale_seconds old.
    worker = fields.Function(_worker)
    worker_seen_seconds = fields.Function(lambda health: _seconds(health.worker_seen_seconds))
