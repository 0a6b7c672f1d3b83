"""What the health check reports, from the parts that can fail while the process runs."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from affsrv.db.errors import database_unusable
from affsrv.extensions import db
from affsrv.notifications.services import last_heartbeat_age, outbox_backlog
from affsrv.settings import settings


@dataclass(frozen=True)
class Health:
    database: bool
    clicks_waiting: int
    notifications_due: int | None  # None: the database could not say
    oldest_due_seconds: float | None
    worker_seen_seconds: float | None = None  # None: no worker ever said it was alive
    max_due_seconds: int = 0  # [health] max_due_seconds (0: no limit)
    worker_stale_seconds: int = 60

    @property
    def notifications_late(self) -> bool:
        """A due message has waited longer than the configured limit: nothing delivers."""
        return (bool(self.max_due_seconds) and self.oldest_due_seconds is not None
                and self.oldest_due_seconds > self.max_due_seconds)

    @property
    def worker_alive(self) -> bool:
        return (self.worker_seen_seconds is not None
                and self.worker_seen_seconds <= self.worker_stale_seconds)

    @property
    def ok(self) -> bool:
        return self.database and not self.notifications_late


def check_health() -> Health:
    """One round trip to the database, this worker's unwritten clicks (they pile up while the
    database is down), the notification backlog (it grows when no worker delivers) and when a
    delivery worker last said it was alive."""
    clicks = current_app.extensions["click_buffer"].waiting
    limits = settings("health")
    try:
        db.session.execute(text("SELECT 1"))
        due, oldest = outbox_backlog()
        seen = last_heartbeat_age()
    except DBAPIError as exc:
        if not database_unusable(exc):
            raise
        return Health(False, clicks, None, None, None, limits["max_due_seconds"],
                      limits["worker_stale_seconds"])
    finally:
        db.session.rollback()  # a read: end the transaction it began
    return Health(True, clicks, due, oldest, seen, limits["max_due_seconds"],
                  limits["worker_stale_seconds"])
