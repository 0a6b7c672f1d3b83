from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, UTCDateTime, utcnow
from affsrv.extensions import db


class Subscription(db.Model):
    """An endpoint that receives affsrv's instant notifications: merchant-wide, or only one
    affiliate's, or only one product's (or both filters)."""

    __tablename__ = "notification_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Encrypts the notifications as ClickBank does with an account's secret key; never logged.
    secret_key: Mapped[str] = mapped_column(String(64))
    affiliate_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("affiliates.id", ondelete="CASCADE")
    )
    product_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("products.id", ondelete="CASCADE")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # `affsrv notify remove` sets it: nothing more is sent, the delivery history stays.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never the key
        return f"<Subscription {self.id} {self.url}>"


class OutboxKind(StrEnum):
    INS = "ins"
    EMAIL = "email"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """Something to deliver, written in the transaction that recorded what it describes."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_messages_subscription_id", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    subscription_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("notification_subscriptions.id", ondelete="CASCADE")
    )
    # ins: the notification without attemptCount (added per try); email: to, subject, body.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # For `notify log`: SALE/RFND/... or the e-mail's recipient role.
    summary: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker owns a claimed message until this time (then another may take it over).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The HTTP status the receiver answered the last try with (None: no answer, or an e-mail).
    response_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WorkerHeartbeat(db.Model):
    """A running delivery worker says it is alive (``/healthz`` reads the latest)."""

    __tablename__ = "notification_worker_heartbeats"

    # host:pid of the worker process
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
