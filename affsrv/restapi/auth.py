"""``Authorization: DEV-<developer key>:API-<clerk key>`` (either order) or ``API-<key>``;
a missing or wrong key, or a key without the method's role, is 403 with a plain-text reason.

A key reaches only its own sites (``ClerkKey.sites``): a site outside them is refused with
``OUTSIDE_SITES``, one answer that names nothing, whatever the site or product is."""

from __future__ import annotations

from flask import request

from affsrv.clerkkeys.models import ClerkKey
from affsrv.clerkkeys.services import find_clerk_key
from affsrv.restapi.errors import RestError

OUTSIDE_SITES = "this API key may not use this site or product"
NO_SITES = ("this API key belongs to no site: the merchant assigns one with "
            "'affsrv clerk-key add-site KEY_ID SITE'")
USAGE = "send Authorization: DEV-<developer key>:API-<clerk key> (or API-<clerk key>)"


def _parse(header: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in header.strip().split(":")]
    clerk = [p[4:] for p in parts if p.upper().startswith("API-")]
    dev = [p[4:] for p in parts if p.upper().startswith("DEV-")]
    if len(parts) > 2 or len(clerk) != 1 or len(dev) + len(clerk) != len(parts):
        raise RestError(403, f"malformed Authorization header: {USAGE}")
    if not clerk[0] or (dev and not dev[0]):
        raise RestError(403, f"empty key in the Authorization header: {USAGE}")
    return clerk[0], dev[0] if dev else None


def require_roles(*roles: str) -> ClerkKey:
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise RestError(403, f"missing Authorization header: {USAGE}")
    clerk, dev = _parse(header)
    key = find_clerk_key(clerk, dev)
    if key is None:
        raise RestError(403, "invalid or revoked API key")
    missing = [r for r in roles if r not in key.role_set]
    if missing:
        raise RestError(403, f"this API key lacks the role(s) {', '.join(missing)}")
    if not key.sites:
        raise RestError(403, NO_SITES)
    return key


def require_site(key: ClerkKey, site: str) -> str:
    """``site`` when ``key`` belongs to it; else the uniform 403."""
    if site not in key.sites:
        raise RestError(403, OUTSIDE_SITES)
    return site
