"""Reporting keys: what ``/reports/v1`` asks for. Stored hashed (``affsrv.keyhash``), shown
once when made."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from affsrv.db.types import utcnow
from affsrv.errors import NotFound
from affsrv.extensions import db
from affsrv.keyhash import hash_key
from affsrv.reports.models import ReportKey
from affsrv.validation import check_label

PREFIX = "affsrv_report_"


def create_report_key(label: str = "") -> tuple[ReportKey, str]:
    """Store a new key (hashed); the plain key is returned only this once."""
    plain = PREFIX + secrets.token_urlsafe(32)
    record = ReportKey(key_hash=hash_key(plain), prefix=plain[len(PREFIX):len(PREFIX) + 6],
                       label=check_label(label))
    db.session.add(record)
    db.session.commit()
    return record, plain


def revoke_report_key(key_id: int) -> ReportKey:
    record = db.session.get(ReportKey, key_id)
    if record is None:
        raise NotFound(f"no reporting key with id {key_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()
    return record


def list_report_keys() -> list[ReportKey]:
    return list(db.session.scalars(select(ReportKey).order_by(ReportKey.id)))


def is_valid_report_key(key: str | None) -> bool:
    """Whether ``key`` is an active reporting key: looked up by its SHA-256, so the time taken
    says nothing about how much of a key was right."""
    if not key or len(key) > 200:
        return False
    found = db.session.scalar(select(ReportKey.id).where(
        ReportKey.key_hash == hash_key(key), ReportKey.revoked_at.is_(None)))
    return found is not None
