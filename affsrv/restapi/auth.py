"""``Authorization: DEV-<developer key>:API-<clerk key>`` (either order) or ``API-<key>``;
a missing or wrong key, or a key without the method's role, is 403 with a plain-text reason.

Missing, malformed and wrong keys are failures throttled per client address and per clerk key
sent (``[limits] rest_key_failures_per_*``, see ``affsrv.ratelimits``); the first of a window is
logged, then one line when throttling starts, not one line per wrong key.

A key reaches only its own sites (``ClerkKey.sites``): a site outside them is refused with
``OUTSIDE_SITES``, one answer that names nothing, whatever the site or product is."""

from __future__ import annotations

from flask import request

from affsrv.clerkkeys.models import ClerkKey
from affsrv.clerkkeys.services import find_clerk_key
from affsrv.logs import get_log
from affsrv.ratelimits import count_failure, first_failure_in_window, secret_key
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
        raise _refused(f"malformed Authorization header: {USAGE}")
    if not clerk[0] or (dev and not dev[0]):
        raise _refused(f"empty key in the Authorization header: {USAGE}")
    return clerk[0], dev[0] if dev else None


def sent_clerk_key() -> str:
    """The limits' key for the clerk key this request sends (a digest; "none" without one)."""
    header = request.headers.get("Authorization") or ""
    clerk = [p.strip()[4:] for p in header.split(":") if p.strip().upper().startswith("API-")]
    return secret_key(clerk[0] if clerk else "none")


def _refused(message: str) -> RestError:
    count_failure()
    if first_failure_in_window("rest-key"):
        get_log("general").warning(
            "rest key refused (the first this minute from this address; more are counted by "
            "the throttle)", reason=message, path=request.path, remote=request.remote_addr)
    return RestError(403, message)


def require_roles(*roles: str) -> ClerkKey:
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        raise _refused(f"missing Authorization header: {USAGE}")
    clerk, dev = _parse(header)
    key = find_clerk_key(clerk, dev)
    if key is None:
        raise _refused("invalid or revoked API key")
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
