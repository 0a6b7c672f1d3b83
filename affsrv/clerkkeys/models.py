from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import UTCDateTime, utcnow
from affsrv.extensions import db


class ClerkKey(db.Model):
    """A REST API key pair: the clerk key (``API-...``) carries the roles; the developer key
    (``DEV-...``) made with it must match when a client sends both."""

    __tablename__ = "clerk_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the key text after ``API-`` / ``DEV-``; keys are random, a fast hash is enough.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    dev_key_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(8))
    # Space-separated role names, e.g. "api_order_read api_products_client".
    roles: Mapped[str] = mapped_column(String(255), default="")
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())
