"""The application factory."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from affsrv import ratelimits
from affsrv.config import ConfigError, database_url, load_settings
from affsrv.db.errors import database_unusable
from affsrv.error_formats import error_format, json_error
from affsrv.extensions import db, migrate
from affsrv.jsonprovider import OrjsonProvider
from affsrv.logs import AppLogs, get_log
from affsrv.request_body import BodyDrain

# Each domain package may have `models` (imported so the schema is complete) and `views`
# (a module with a blueprint `bp`). Adding a domain is adding its name here.
DOMAINS = (
    "affiliates",
    "products",
    "apikeys",
    "tracking",
    "commissions",
    "payments",
    "orders",
    "dataapi",
    "clickbank",
    "notifications",
    "clerkkeys",
    "shipping",
    "restapi",
    "reports",
    "totals",
    "health",
    # The pages: web (layout, session, CSRF, headers, assets) before those built on it.
    "web",
    "users",
    "admin",
    "portal",
)



class AffsrvFlask(Flask):
    """Flask, remembering ``ensure_sync``'s answer for each function. Flask asks it for every
    hook and view of every request (whether the function is a coroutine: several ``inspect``
    calls each), and the answer for a function never changes."""

    # More functions than affsrv has views and hooks: past it (a caller making a new function
    # per request), Flask answers afresh instead of the map growing.
    _MAX_REMEMBERED = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Any, Any] = {}

    def ensure_sync(self, func: Any) -> Any:
        try:
            return self._sync[func]
        except KeyError:
            sync = self._sync[func] = super().ensure_sync(func)
            if len(self._sync) > self._MAX_REMEMBERED:
                del self._sync[func]
            return sync
        except TypeError:  # unhashable
            return super().ensure_sync(func)


def _migrations_dir() -> Path:
    """Where the Alembic scripts are: ``affsrv.migrations`` in an installed package (setup.py
    maps the top-level migrations/ folder there), the checkout's migrations/ folder when affsrv
    is imported from a checkout that was not installed (or another copy was)."""
    try:
        spec = importlib.util.find_spec("affsrv.migrations")
    except ImportError:
        spec = None
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    checkout = Path(__file__).resolve().parent.parent / "migrations"
    if (checkout / "env.py").is_file():
        return checkout
    raise ImportError("affsrv's migrations are missing: neither the package affsrv.migrations "
                      f"nor {checkout} exists; reinstall affsrv (pip install .)")


MIGRATIONS_DIR = _migrations_dir()


def _domain_module(domain: str, part: str) -> Any | None:
    name = f"affsrv.{domain}.{part}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def import_models() -> None:
    """Import every domain's models so ``db.metadata`` knows every table."""
    for domain in DOMAINS:
        _domain_module(domain, "models")


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


def _tune_sqlite(app: Flask) -> None:
    """WAL lets the landing link read while a commission is written. FULL sync makes every
    commit (a commission, a payment) wait for its fsync, so a power loss cannot undo one;
    landing clicks are written in batches, so they do not pay it per click."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Read pages through a memory map (up to 1 GiB of the file) instead of a read()
            # into each connection's small page cache: random lookups in a big database
            # (an affiliate, its commissions) cost a third as much.
            cursor.execute("PRAGMA mmap_size=1073741824")
            cursor.close()


def _sqlite_url(url: str) -> str:
    """Make a relative SQLite path relative to the working directory (Flask-SQLAlchemy would
    put it under the package's instance folder) and create its folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return url
    path = Path(url[len(prefix):]).expanduser().resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"database.url: cannot create the SQLite database's folder {str(path.parent)!r}: "
            f"{exc.strerror}"
        ) from None
    return prefix + str(path)


def init_core(app: Flask, settings: dict[str, Any]) -> None:
    """What every affsrv app stands on, its views apart: the settings, the database (SQLite
    tuned), the JSON encoder, the logs and the rate limiter. ``create_app`` adds the views;
    the benchmark's ladder app (``bench/floor.py``) stands on this alone."""
    url = _sqlite_url(database_url(settings))
    app.config.update(
        AFFSRV=settings,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
        MAX_CONTENT_LENGTH=settings["server"]["max_body_bytes"],
        JSON_SORT_KEYS=False,
    )
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    app.extensions["affsrv_logs"] = AppLogs(settings["logs"])
    db.init_app(app)
    _tune_sqlite(app)
    ratelimits.init_app(app)


def create_app(
    config_path: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Flask:
    """Build the app from ``config_path`` (or ``$AFFSRV_CONFIG``), the environment and
    ``overrides``."""
    settings = load_settings(config_path, overrides=overrides)
    app = AffsrvFlask(__name__)
    init_core(app, settings)
    proxies = settings["server"]["trusted_proxies"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.wsgi_app = BodyDrain(app.wsgi_app)  # type: ignore[method-assign]
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))

    for domain in DOMAINS:
        _domain_module(domain, "models")
        views = _domain_module(domain, "views")
        if views is None:
            continue
        if hasattr(views, "init_app"):  # a domain that needs more than its blueprint
            views.init_app(app)
        else:
            app.register_blueprint(views.bp)

    _register_error_handlers(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    def _error(status: int, message: str) -> Any:
        # In the format of the API the path belongs to (affsrv.error_formats); JSON elsewhere.
        return (error_format(app, request.path) or json_error)(status, message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            return _error(413, f"request body too large (limit {limit} bytes)")
        render = error_format(app, request.path)
        if render is None:
            return exc  # a page (the landing link's 405, say): Werkzeug's own
        response = render(exc.code or 400, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. a 405's Allow
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DBAPIError)
    def _database_down(exc: DBAPIError) -> Any:
        if not database_unusable(exc):
            return _unexpected(exc)
        db.session.rollback()
        get_log("general").error("database unavailable", path=request.path, error=str(exc.orig))
        return _error(503, "the database is unavailable; try again shortly")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        db.session.rollback()
        get_log("general").exception("unhandled error", path=request.path)
        return _error(500, "internal error; see logs/general.log")
