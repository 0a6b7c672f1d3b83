"""Creating, checking and revoking clerk keys."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from affsrv.clerkkeys.models import ClerkKey, ClerkKeySite
from affsrv.db.types import utcnow
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.keyhash import hash_key
from affsrv.validation import check_label, check_site

PRODUCTS_CLIENT = "api_products_client"
ORDER_READ = "api_order_read"
ORDER_WRITE = "api_order_write"
ROLES = (PRODUCTS_CLIENT, ORDER_READ, ORDER_WRITE)


def _new_secret() -> str:
    return secrets.token_hex(20).upper()


def _sites(names: Iterable[str]) -> list[str]:
    sites = sorted({check_site(name) for name in names})
    if not sites:
        raise DomainError("give at least one site (the ClickBank account nickname the key "
                          "may use)")
    return sites


def create_clerk_key(roles: Iterable[str], label: str = "", *,
                     sites: Iterable[str]) -> tuple[ClerkKey, str]:
    """Store a new key pair confined to ``sites``; returns it and the ``Authorization``
    header value (shown once)."""
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise DomainError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not wanted:
        raise DomainError(f"give at least one role: {', '.join(ROLES)}")
    site_rows = [ClerkKeySite(site=site) for site in _sites(sites)]
    clerk, dev = _new_secret(), _new_secret()
    record = ClerkKey(key_hash=hash_key(clerk), dev_key_hash=hash_key(dev), prefix=clerk[:8],
                      roles=" ".join(wanted), label=check_label(label), site_rows=site_rows)
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


def _get(key_id: int) -> ClerkKey:
    record = db.session.get(ClerkKey, key_id)
    if record is None:
        raise NotFound(f"no clerk key with id {key_id}")
    return record


def add_clerk_key_sites(key_id: int, sites: Iterable[str]) -> ClerkKey:
    """Let the key use these sites too (a site it has already is left as it is)."""
    record = _get(key_id)
    for site in _sites(sites):
        if site not in record.sites:
            record.site_rows.append(ClerkKeySite(site=site))
    db.session.commit()
    return record


def remove_clerk_key_sites(key_id: int, sites: Iterable[str]) -> ClerkKey:
    """Take these sites from the key; a key left with none is refused by every method."""
    record = _get(key_id)
    names = _sites(sites)
    missing = [site for site in names if site not in record.sites]
    if missing:
        raise DomainError(f"clerk key {key_id} has no site {', '.join(missing)}")
    record.site_rows = [row for row in record.site_rows if row.site not in names]
    db.session.commit()
    return record


def revoke_clerk_key(key_id: int) -> ClerkKey:
    record = _get(key_id)
    record.revoked_at = utcnow()
    db.session.commit()
    return record
