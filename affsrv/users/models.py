from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import UTCDateTime, utcnow
from affsrv.extensions import db


class Role(StrEnum):
    # The owner also manages API keys; staff run the day-to-day pages.
    OWNER = "owner"
    STAFF = "staff"


class MerchantUser(db.Model):
    __tablename__ = "merchant_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored in lower case: e-mail addresses are compared without case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.OWNER)
    # argon2id; None until the user sets one (after a one-time sign-in link).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The zone this user reads times in; "" is [server] timezone.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    # SHA-256 of the one-time sign-in link's token, and when it stops working.
    signin_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    signin_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<MerchantUser {self.id} {self.email}>"
