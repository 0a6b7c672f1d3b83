from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import Percent, UTCDateTime, utcnow
from affsrv.extensions import db

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,64}\Z"
_CODE_RE = re.compile(CODE_PATTERN)


def is_well_formed_code(code: str) -> bool:
    """Whether ``code`` could be an affiliate code: 1 to 64 letters, digits, '_' or '-'."""
    return _CODE_RE.match(code) is not None


class Affiliate(db.Model):
    __tablename__ = "affiliates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    fname: Mapped[str] = mapped_column(String(100), default="")
    lname: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(45), default="")
    # Own commission percentage; when set it overrides the amount a shop sends.
    commtier: Mapped[Decimal | None] = mapped_column(Percent())
    payinfo: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The affiliate's ClickBank nickname, for matching Instant Notifications.
    clickbank_nickname: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Extra fields a merchant adds; the Data API's `info` returns them too.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set on every change: each worker's affiliate directory re-reads the rows changed since
    # its last refresh (affsrv/directory.py).
    updated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )

    def __repr__(self) -> str:
        return f"<Affiliate {self.id} {self.code}>"
