"""Creating and checking API keys."""

from __future__ import annotations

import secrets
import threading
import time

from flask import current_app
from sqlalchemy import func, select

from affsrv.apikeys.models import ApiKey
from affsrv.db.types import utcnow
from affsrv.errors import NotFound
from affsrv.extensions import db
from affsrv.keyhash import hash_key
from affsrv.settings import settings
from affsrv.validation import check_label


class ActiveKeys:
    """The active keys' hashes as one app last read them: at most ``[server] cache_seconds``
    old, so a key revoked elsewhere (another worker, the CLI) stops working within that time.
    Creating or revoking a key through this app forgets them at once; a key created elsewhere
    is looked up on its first use (``learn``)."""

    def __init__(self) -> None:
        self._hashes: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def hashes(self, max_age: float) -> frozenset[str]:
        read_at = self._read_at
        if max_age > 0 and read_at is not None and time.monotonic() - read_at < max_age:
            return self._hashes
        with self._lock:
            hashes = frozenset(_load_active_hashes())
            if max_age > 0:
                self._hashes, self._read_at = hashes, time.monotonic()
        return hashes

    def forget(self) -> None:
        with self._lock:
            self._read_at = None

    def learn(self, key_hash: str) -> None:
        """Add an active key found in the database since the last read."""
        with self._lock:
            self._hashes = self._hashes | {key_hash}


def _active_keys() -> ActiveKeys:
    extensions = current_app.extensions
    keys = extensions.get("affsrv_active_keys")
    if keys is None:
        keys = extensions.setdefault("affsrv_active_keys", ActiveKeys())
    return keys


def create_api_key(label: str = "") -> tuple[ApiKey, str]:
    """Store a new key (hashed) and return it with the plain key, which is shown only once."""
    plain = "affsrv_" + secrets.token_urlsafe(32)
    record = ApiKey(key_hash=hash_key(plain), prefix=plain[7:13], label=check_label(label))
    db.session.add(record)
    db.session.commit()
    _active_keys().forget()
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
    _active_keys().forget()
    return record


def list_api_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _load_active_hashes() -> tuple[str, ...]:
    return tuple(
        db.session.scalars(select(ApiKey.key_hash).where(ApiKey.revoked_at.is_(None)))
    )


def is_valid_api_key(key: str) -> bool:
    """Whether ``key`` is an active key: its SHA-256 looked up among the active keys' hashes.

    A lookup by the hash costs the same however many keys the merchant has, and what its
    timing could tell is about the digest of the key sent, which an attacker cannot steer
    towards a stored one (finding a key with a chosen digest prefix is a preimage search);
    the keys themselves are never compared."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return False
    wanted = hash_key(key)
    keys = _active_keys()
    max_age = settings("server")["cache_seconds"]
    found = wanted in keys.hashes(max_age)
    if found or max_age <= 0:
        return found
    # Not among the cached keys: perhaps created since (`affsrv apikey create`, another worker).
    # One indexed lookup, no more than a valid call's own query costs; a new key must not be
    # refused for up to cache_seconds after the merchant made it.
    if db.session.scalar(select(ApiKey.id).where(
            ApiKey.key_hash == wanted, ApiKey.revoked_at.is_(None))) is None:
        return False
    keys.learn(wanted)
    return True
