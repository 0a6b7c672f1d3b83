from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import UTCDateTime
from affsrv.extensions import db


class AffiliateLogin(db.Model):
    """What the affiliate area keeps about an affiliate who uses it (the password itself is
    the affiliate's, in ``affiliates.password_hash``)."""

    __tablename__ = "affiliate_logins"

    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"),
                                              primary_key=True)
    # The zone the affiliate reads times in; "" is [server] timezone.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    # SHA-256 of the password-reset link's token, and when it stops working.
    reset_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    reset_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
