"""Sets up what every page needs (see the package's docstring) and serves the assets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from affsrv.error_formats import register_error_format
from affsrv.extensions import db
from affsrv.web.secret import stored_secret

# Served from the installed package at /assets/...: the layout's stylesheet and the vendored
# scripts (static/vendor, whose files and licenses docs/web.md lists).
bp = Blueprint("web", __name__, static_folder="static", static_url_path="/assets",
               template_folder="templates")
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = "basic"
# Who may sign in: a session's user id is "<kind>:<id>:<fingerprint>", and each kind (m:
# merchant users, a: affiliates) registers the function that loads its own.
USER_LOADERS: dict[str, Callable[[str], Any]] = {}


@login_manager.user_loader
def _load_user(session_id: str) -> Any:
    kind, _, rest = session_id.partition(":")
    loader = USER_LOADERS.get(kind)
    return loader(rest) if loader is not None else None

# Where the pages are: the only requests with a session (tests/web checks every page route).
PAGE_PATHS = ("/login", "/logout", "/account", "/admin", "/affiliate")
# The blueprints that serve them (``protect`` refuses any other): the request hooks the pages
# need (the deferred session error, CSRF, Flask-Login's cookie, sign-in throttling, the
# security headers) are registered on these only, so the APIs and the landing link run none.
PAGE_BLUEPRINTS = ("users", "admin", "portal")


def is_page_path(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PATHS)


# Where open_session leaves a database error for the request to raise (see open_session).
_DEFERRED_ERROR = "affsrv.web.session_error"


HTMX = "vendor/htmx-2.0.11.min.js"
ECHARTS = "vendor/echarts-6.1.0.min.js"

# No inline script or style anywhere: every script and stylesheet is a file of ours.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
])


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the secret from ``affsrv.web.secret`` (looked up once
    per process, on the first request that needs it), and Secure whenever the request came over
    HTTPS (directly, or through a trusted proxy's X-Forwarded-Proto)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        # The APIs and the landing link have no sessions: they stay as fast as before there
        # were pages (no serializer built, no secret read, so they answer with the database
        # down too) and can never set this cookie. By path: the session opens before routing.
        if not is_page_path(request.path):
            return self.make_null_session(app)
        try:
            return super().open_session(app, request)
        except DBAPIError as exc:
            # Reading the generated secret failed (the database is down). Flask opens the
            # session before any error handler can answer, so raised here it would be a bare
            # 500: the request raises it instead (raise_deferred_error), and the app's
            # handler answers 503 with the error page.
            db.session.rollback()
            request.environ[_DEFERRED_ERROR] = exc
            return self.make_null_session(app)

    def get_signing_serializer(self, app: Flask) -> Any:
        if not app.secret_key:
            app.secret_key = app.config["AFFSRV"]["web"]["secret_key"] or stored_secret()
        return super().get_signing_serializer(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def security_headers(response: Response) -> Response:
    """On every page and asset affsrv's web pages serve."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers that predate it
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if request.is_secure:  # over plain HTTP a browser ignores it, and it would mislead
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.blueprint != "web":  # pages (not the assets) hold personal data
        headers.setdefault("Cache-Control", "no-store")
    return response


bp.after_request(security_headers)


def viewer_zone() -> ZoneInfo:
    """The zone the signed-in person chose, else ``[server] timezone``."""
    zone = getattr(g, "viewer_zone", None)
    if zone is None:
        from flask_login import current_user

        chosen = getattr(current_user, "timezone", "") if current_user else ""
        zone = ZoneInfo(chosen or current_app.config["AFFSRV"]["server"]["timezone"])
        g.viewer_zone = zone
    return zone


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(viewer_zone()).strftime(fmt)


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}%"


def public_url(path: str) -> str:
    """``path`` on the address people reach affsrv at (``[web] public_url``)."""
    config = current_app.config["AFFSRV"]
    base = config["web"]["public_url"] or f"http://{config['server']['bind']}"
    return base.rstrip("/") + path


def raise_deferred_error() -> None:
    """Raise the database error the session could not be opened with, if any."""
    error = request.environ.pop(_DEFERRED_ERROR, None)
    if error is not None:
        raise error


def page_error(status: int, message: str) -> Response:
    """An error the app answers itself on a page path (the database down, an unknown page):
    the error page without anything that needs the session or the database (no navigation,
    no CSRF token, no flashed messages), since either may be what failed."""
    deferred = request.environ.pop(_DEFERRED_ERROR, None)
    if deferred is not None:
        # A page path no page blueprint serves (an unknown page): none of their hooks raised
        # the session's error, so it is answered as the app answers it (503, logged).
        return current_app.make_response(current_app.handle_user_exception(deferred))
    page = render_template("error.html", status=status, message=message, bare=True,
                           title=HTTP_STATUS_CODES.get(status, "Error"))
    # Also where no blueprint matched the path (so none of their after_request ran).
    return security_headers(current_app.make_response((page, status)))


def init_app(app: Flask) -> None:
    web = app.config["AFFSRV"]["web"]
    app.session_interface = SessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="affsrv_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web["session_hours"]),
        WTF_CSRF_TIME_LIMIT=web["session_hours"] * 3600,
        # The API paths (JSON, REST, ClickBank) are called by machines with keys, not by a
        # browser with a session: only the blueprints that hold pages check the form token.
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    register_error_format(app, ("/", *PAGE_PATHS), page_error)
    # Both register a hook for every request of the app; the pages run their work themselves
    # (``protect``). Flask-WTF's check returns at once here (WTF_CSRF_CHECK_DEFAULT is off), so
    # it is dropped; Flask-Login's remember-cookie update acts only on a session a page's
    # sign-in or sign-out marked, so it moves to the page blueprints.
    _page_only(app, csrf.init_app, before=1)
    _page_only(app, login_manager.init_app, after=[login_manager._update_remember_cookie])
    app.jinja_env.filters.update(local_time=local_time, money=money, percent=percent)
    app.jinja_env.globals.update(HTMX=HTMX, ECHARTS=ECHARTS, admin_pages=[],
                                 owner_pages=frozenset(),
                                 viewer_zone_name=lambda: viewer_zone().key)
    app.register_blueprint(bp)


def _page_only(app: Flask, init_app: Callable[[Flask], None], before: int = 0,
               after: Sequence[Callable[[Response], Response]] = ()) -> None:
    """Run an extension's ``init_app`` and take back the app-wide request hooks it registers:
    ``before`` before-request hooks, dropped, and the after-request hooks ``after``, which then
    run on the page blueprints only. Anything else it registers (another release of the
    extension) stops the app from starting, rather than silently run on every request or not
    at all."""
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    had = [list(funcs.get(None, ())) for funcs in hooks]
    init_app(app)
    added = [[f for f in funcs.get(None, ()) if f not in old] for funcs, old in zip(hooks, had,
                                                                                      strict=True)]
    if len(added[0]) != before or added[1] != list(after) or added[2]:
        raise RuntimeError(f"{init_app.__qualname__} registered request hooks affsrv does not "
                           f"expect: {added}; see affsrv.web.views._page_only")
    for funcs, old in zip(hooks, had, strict=True):
        funcs[None] = old
    for name in PAGE_BLUEPRINTS:
        # Kept by name: the blueprint's own hooks are added to this list when it registers.
        app.after_request_funcs.setdefault(name, []).extend(after)


def protect(blueprint: Blueprint) -> None:
    """Make ``blueprint`` (one of ``PAGE_BLUEPRINTS``) a page blueprint: the session's deferred
    error raised first, CSRF checks on every unsafe request, the error page and the security
    headers."""
    if blueprint.name not in PAGE_BLUEPRINTS:
        raise ValueError(f"{blueprint.name!r} is not in PAGE_BLUEPRINTS: add it there, so that "
                         "the pages' request hooks run on it")
    # First, before a blueprint's own hooks (the admin's sign-in check reads the database).
    blueprint.before_request_funcs.setdefault(None, []).insert(0, raise_deferred_error)

    @blueprint.before_request
    def _check_csrf() -> None:
        csrf.protect()

    @blueprint.errorhandler(HTTPException)
    def _error_page(exc: HTTPException) -> Any:
        # A refusal as a page in the layout, with what was wrong (a form's bad value, a CSRF
        # token missing, an id that is not there), never a traceback.
        page = render_template("error.html", status=exc.code, title=exc.name,
                               message=exc.description)
        response = current_app.make_response((page, exc.code or 400))
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    blueprint.after_request(security_headers)
