"""Sign-in throttling, on Flask-Limiter: failed sign-ins are counted per account (the e-mail
typed, known or not) and per client IP; past either limit every sign-in there is refused with
429 until the window has passed, even with the right password, so guessing is slow and a
locked account looks the same whether it exists or not.

The counts live in ``[web] limiter_storage`` (memory:// is per worker process)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

ACCOUNT_LIMIT = "10 per 15 minutes"
IP_LIMIT = "50 per 15 minutes"
FAILED_SIGNIN = 401  # the status of a refused sign-in; only those count

limiter = Limiter(key_func=get_remote_address, key_prefix="affsrv-signin")


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response: Any) -> bool:
    return response.status_code == FAILED_SIGNIN


def throttle_signin(view: Any) -> Any:
    """Decorate a sign-in view that answers a refused sign-in with ``FAILED_SIGNIN``."""
    view = limiter.limit(ACCOUNT_LIMIT, key_func=_account_key, methods=["POST"],
                         deduct_when=_failed, scope="signin-account")(view)
    return limiter.limit(IP_LIMIT, methods=["POST"], deduct_when=_failed,
                         scope="signin-ip")(view)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["AFFSRV"]["web"]["limiter_storage"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
