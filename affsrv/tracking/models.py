from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, PrimaryKeyConstraint, String
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
    # No secondary index: every click would add to each, and the landing link writes thousands
    # a second. No query reads clicks: the Data API's `referrals` op reads ClickCount.

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(Integer, ForeignKey("affiliates.id"))
    product_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("products.id"))
    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_links.id"))
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ClickCount(db.Model):
    """How many clicks an affiliate has per product and referring link: the Data API's
    `referrals` answer, kept up to date in the transaction that writes the clicks
    (``tracking.services.count_clicks``). The op reads one row per product and link instead of
    counting every click, which took time in proportion to the affiliate's clicks (108 ms a
    call on SQLite, 179 on PostgreSQL, for an affiliate with a million clicks).

    Derived from ``clicks`` and written only with them; no foreign keys (the clicks have them),
    so keeping it costs each written click one key lookup. ``product_id`` 0 counts the clicks
    that named no product."""

    __tablename__ = "click_counts"
    # One affiliate's rows must sit together, as `referrals` reads them all: on SQLite they live
    # in the primary key's b-tree (WITHOUT ROWID); PostgreSQL's primary key includes the count,
    # so the op is an index-only scan. Reading each row from the table's pages instead (a page
    # per row: rows are added over time) served 122 calls/s against 558 under the benchmark's
    # load, as those pages crowded the other tables out of PostgreSQL's buffers.
    __table_args__ = (
        PrimaryKeyConstraint("affiliate_id", "product_id", "link_id",
                             postgresql_include=["clicks"]),
        {"sqlite_with_rowid": False},
    )

    affiliate_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    product_id: Mapped[int] = mapped_column(Integer, autoincrement=False)
    link_id: Mapped[int] = mapped_column(BigId, autoincrement=False)
    clicks: Mapped[int] = mapped_column(BigInteger)
