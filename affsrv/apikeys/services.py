"""Creating and checking API keys."""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import func, select

from affsrv.apikeys.models import ApiKey
from affsrv.cache import Memo
from affsrv.db.types import utcnow
from affsrv.errors import NotFound
from affsrv.extensions import db
from affsrv.keyhash import hash_key
from affsrv.settings import settings

_active_hashes = Memo(maxsize=1)


def create_api_key(label: str = "") -> tuple[ApiKey, str]:
    """Store a new key (hashed) and return it with the plain key, which is shown only once."""
    plain = "affsrv_" + secrets.token_urlsafe(32)
    record = ApiKey(key_hash=hash_key(plain), prefix=plain[7:13], label=label)
    db.session.add(record)
    db.session.commit()
    _active_hashes.clear()
    return record, plain


def ensure_api_key() -> str | None:
    """Create a first key when there is none; the plain key, or None if keys exist."""
    if db.session.scalar(select(func.count(ApiKey.id))):
        return None
    return create_api_key("first key")[1]


def revoke_api_key(key_id: int) -> ApiKey:
    record = db.session.get(ApiKey, key_id)
    if record is None:
        raise NotFound(f"no API key with id {key_id}")
    record.revoked_at = utcnow()
    db.session.commit()
    _active_hashes.clear()
    return record


def list_api_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _load_active_hashes() -> tuple[str, ...]:
    return tuple(
        db.session.scalars(select(ApiKey.key_hash).where(ApiKey.revoked_at.is_(None)))
    )


def is_valid_api_key(key: str) -> bool:
    """Compare against every active key in constant time (no early exit on a match)."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return False
    wanted = hash_key(key).encode()
    hashes = _active_hashes.get("all", settings("server")["cache_seconds"], _load_active_hashes)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(wanted, stored.encode())
    return found
