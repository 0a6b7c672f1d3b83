from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import UTCDateTime, utcnow
from affsrv.extensions import db


class SiteSecret(db.Model):
    """A secret affsrv made for itself on first use (the session key), shared by every worker."""

    __tablename__ = "site_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
