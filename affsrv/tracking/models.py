from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, UTCDateTime, utcnow
from affsrv.extensions import db


class ReferralLink(db.Model):
    """A referring link (the page a visitor came from), stored once however many clicks name it.

    Clicks refer to it by id, so the clicks' per-affiliate index holds three integers instead of
    the URL: a far smaller index, cheaper to add to on every click, and no URL too long for a
    database's index entry (PostgreSQL refuses one over ~2.7 kB).
    """

    __tablename__ = "referral_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # SHA-256 of the URL: the unique key (a URL may be longer than an index entry allows).
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Click(db.Model):
    """One referral: a visitor who arrived through an affiliate's link."""

    __tablename__ = "clicks"
    # One index only: every click adds to each index, and the landing link writes thousands a
    # second. The Data API's `referrals` op counts one affiliate's clicks by product and link;
    # no query reads clicks by product or by time alone, so the two indexes it had for that
    # were dropped (migration 1ffa6b197ddb).
    __table_args__ = (
        Index("ix_clicks_affiliate_product_link", "affiliate_id", "product_id", "link_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"))
    product_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("products.id"))
    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_links.id"))
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
