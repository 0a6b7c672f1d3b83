from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from affsrv.db.types import UTCDateTime, utcnow
from affsrv.extensions import db


class ClerkKey(db.Model):
    """A REST API key pair: the clerk key (``API-...``) carries the roles; the developer key
    (``DEV-...``) made with it must match when a client sends both. A key reaches only the
    products and orders of its sites (ClickBank account nicknames, ``ClerkKeySite``)."""

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

    site_rows: Mapped[list[ClerkKeySite]] = relationship(
        back_populates="clerk_key", order_by="ClerkKeySite.site", cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())

    @property
    def sites(self) -> frozenset[str]:
        """The account nicknames (lower case) this key may read and change."""
        return frozenset(row.site for row in self.site_rows)


class ClerkKeySite(db.Model):
    """One site (ClickBank account nickname, lower case) a clerk key belongs to."""

    __tablename__ = "clerk_key_sites"
    __table_args__ = (UniqueConstraint("clerk_key_id", "site", name="uq_clerk_key_sites_site"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clerk_key_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("clerk_keys.id", ondelete="CASCADE"))
    site: Mapped[str] = mapped_column(String(64))

    clerk_key: Mapped[ClerkKey] = relationship(back_populates="site_rows")
