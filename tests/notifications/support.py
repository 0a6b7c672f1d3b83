"""Helpers for outbound notification tests."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from affsrv.clickbank.crypto import decrypt_envelope
from affsrv.extensions import db
from affsrv.notifications.models import OutboxMessage
from affsrv.notifications.services import add_subscription, process_due

KEY = "SUBKEY0123456789"


def subscribe(app: Flask, url: str, key: str = KEY, **filters: Any) -> int:
    with app.app_context():
        return add_subscription(url, key, **filters)[0].id


def run_due(app: Flask, now: datetime | None = None) -> int:
    with app.app_context():
        return process_due(now=now)


def messages(app: Flask, kind: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def opened(body: dict[str, str], key: str = KEY) -> dict[str, Any]:
    """What a receiver written for ClickBank reads: decrypt with the key, parse the JSON."""
    return json.loads(decrypt_envelope(body, key), parse_float=Decimal)
