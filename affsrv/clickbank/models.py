from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, UTCDateTime, utcnow
from affsrv.extensions import db

NICKNAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}\Z"


class ClickbankAccount(db.Model):
    """A ClickBank account (nickname) whose Instant Notifications affsrv receives."""

    __tablename__ = "clickbank_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-case; ClickBank nicknames are case-insensitive.
    nickname: Mapped[str] = mapped_column(String(64), unique=True)
    # Needed in plain form to derive the AES key; never logged nor shown by the CLI.
    secret_key: Mapped[str] = mapped_column(String(64))
    # Accept legacy (up to 4.0) form posts, proved by an 8-hex-character cverify (32 bits,
    # guessable): off for new accounts; accounts older than the setting have it on.
    legacy_cverify: Mapped[bool] = mapped_column(Boolean, default=False)
    # A SALE naming a SKU no product has: False creates the product from the notification
    # and credits the commission; True stores the order only (``affsrv account set``).
    refuse_unknown_skus: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never the key
        return f"<ClickbankAccount {self.id} {self.nickname}>"


class InsNotification(db.Model):
    """One notification as received (decrypted, whole), and the order it was stored as."""

    __tablename__ = "ins_notifications"
    __table_args__ = (
        Index("ix_ins_notifications_receipt", "receipt"),
        Index("ix_ins_notifications_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None once the account is removed; ``account`` keeps its nickname.
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("clickbank_accounts.id", ondelete="SET NULL")
    )
    account: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(64))
    transaction_type: Mapped[str] = mapped_column(String(40))
    # "6.0", "7.0", "8.0", or the legacy form post's cnoticeversion ("4.0", ...).
    version: Mapped[str] = mapped_column(String(8), default="")
    attempt_count: Mapped[int] = mapped_column(Integer, default=1)
    # The decrypted JSON text exactly as ClickBank sent it (a legacy post: its fields as JSON).
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    order_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE")
    )
