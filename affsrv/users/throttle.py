"""Sign-in throttling, on Flask-Limiter: failed sign-ins are counted per account (the e-mail
typed, known or not) and per client IP (``[web] signin_failures_per_account`` and
``signin_failures_per_ip`` in 15 minutes); past either limit every sign-in there is refused with
429 until the window has passed, even with the right password, so guessing is slow and a
locked account looks the same whether it exists or not.

The counts live where every throttle of affsrv keeps them, ``[limits] storage_url`` (see
``affsrv.ratelimits``, which sets the app's storage before the domains start); this limiter is
apart from that module's only because it counts in a moving window."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from affsrv.ratelimits import check_only_where_limited
from affsrv.web.views import PAGE_BLUEPRINTS

WINDOW = "15 minutes"
FAILED_SIGNIN = 401  # the status of a refused sign-in; only those count

# A moving window: a fixed one would forget every failure at each quarter hour of the clock,
# letting a guesser double the limit across the boundary.
limiter = Limiter(key_func=get_remote_address, key_prefix="affsrv-signin",
                  strategy="moving-window", headers_enabled=False,
                  in_memory_fallback_enabled=True)


def _account_limit() -> str:
    return f"{current_app.config['AFFSRV']['web']['signin_failures_per_account']} per {WINDOW}"


def _ip_limit() -> str:
    return f"{current_app.config['AFFSRV']['web']['signin_failures_per_ip']} per {WINDOW}"


def _account_key() -> str:
    # The blueprint too: a merchant user and an affiliate with one address are two accounts.
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"account:{request.blueprint}:{email}"


def _failed(response: Any) -> bool:
    return response.status_code == FAILED_SIGNIN


def throttle_signin(view: Any) -> Any:
    """Decorate a sign-in view that answers a refused sign-in with ``FAILED_SIGNIN``."""
    view = limiter.limit(_account_limit, key_func=_account_key, methods=["POST"],
                         deduct_when=_failed, scope="signin-account")(view)
    return limiter.limit(_ip_limit, methods=["POST"], deduct_when=_failed,
                         scope="signin-ip")(view)


RESET_REQUESTS_PER_IP = "10 per hour"


def throttle_reset_requests(view: Any) -> Any:
    """Decorate a view that e-mails a password-reset link: a few per client IP an hour, so
    nobody can use affsrv to flood an inbox."""
    return limiter.limit(RESET_REQUESTS_PER_IP, methods=["POST"], scope="reset-ip")(view)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    # Its limits are on the pages' sign-in views: its hooks run on the pages only.
    check_only_where_limited(app, limiter, blueprints=PAGE_BLUEPRINTS)
