"""Creating, checking and revoking clerk keys."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from affsrv.clerkkeys.models import ClerkKey
from affsrv.db.types import utcnow
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.keyhash import hash_key
from affsrv.validation import check_label

PRODUCTS_CLIENT = "api_products_client"
ORDER_READ = "api_order_read"
ORDER_WRITE = "api_order_write"
ROLES = (PRODUCTS_CLIENT, ORDER_READ, ORDER_WRITE)


def _new_secret() -> str:
    return secrets.token_hex(20).upper()


def create_clerk_key(roles: Iterable[str], label: str = "") -> tuple[ClerkKey, str]:
    """Store a new key pair; returns it and the ``Authorization`` header value (shown once)."""
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise DomainError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not wanted:
        raise DomainError(f"give at least one role: {', '.join(ROLES)}")
    clerk, dev = _new_secret(), _new_secret()
    record = ClerkKey(key_hash=hash_key(clerk), dev_key_hash=hash_key(dev), prefix=clerk[:8],
                      roles=" ".join(wanted), label=check_label(label))
    db.session.add(record)
    db.session.commit()
    return record, f"DEV-{dev}:API-{clerk}"


def find_clerk_key(clerk: str, dev: str | None) -> ClerkKey | None:
    """The active key for this clerk key (and developer key, when one is sent), or None."""
    wanted = hash_key(clerk)
    record = db.session.scalar(
        select(ClerkKey).where(ClerkKey.key_hash == wanted, ClerkKey.revoked_at.is_(None))
    )
    ok = record is not None and hmac.compare_digest(wanted, record.key_hash)
    if record is not None and dev is not None:
        ok = hmac.compare_digest(hash_key(dev), record.dev_key_hash) and ok
    return record if ok else None


def list_clerk_keys() -> list[ClerkKey]:
    return list(db.session.scalars(select(ClerkKey).order_by(ClerkKey.id)))


def revoke_clerk_key(key_id: int) -> ClerkKey:
    record = db.session.get(ClerkKey, key_id)
    if record is None:
        raise NotFound(f"no clerk key with id {key_id}")
    record.revoked_at = utcnow()
    db.session.commit()
    return record
