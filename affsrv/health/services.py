"""What the health check reports, from the parts that can fail while the process runs."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from affsrv.db.errors import database_unusable
from affsrv.extensions import db
from affsrv.notifications.services import outbox_backlog


@dataclass(frozen=True)
class Health:
    database: bool
    clicks_waiting: int
    notifications_due: int | None  # None: the database could not say
    oldest_due_seconds: float | None

    @property
    def ok(self) -> bool:
        return self.database


def check_health() -> Health:
    """One round trip to the database, this worker's unwritten clicks (they pile up while the
    database is down) and the notification backlog (it grows when no worker delivers)."""
    clicks = current_app.extensions["click_buffer"].waiting
    try:
        db.session.execute(text("SELECT 1"))
        due, oldest = outbox_backlog()
    except DBAPIError as exc:
        if not database_unusable(exc):
            raise
        return Health(False, clicks, None, None)
    finally:
        db.session.rollback()  # a read: end the transaction it began
    return Health(True, clicks, due, oldest)
