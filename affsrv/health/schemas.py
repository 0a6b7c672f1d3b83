"""The health check's answer."""

from __future__ import annotations

from marshmallow import Schema, fields

from affsrv.health.services import Health


def _oldest_due(health: Health) -> int | None:
    seconds = health.oldest_due_seconds
    return None if seconds is None else int(seconds)


class HealthSchema(Schema):
    status = fields.Function(lambda health: "ok" if health.ok else "error")
    database = fields.Function(lambda health: "ok" if health.database else "unavailable")
    clicks_waiting = fields.Integer()
    notifications_due = fields.Integer(allow_none=True)
    oldest_due_seconds = fields.Function(_oldest_due)
