"""Test fixtures: a fresh database per run (SQLite, or PostgreSQL when AFFSRV_DATABASE_URL
names one), emptied after every test, and an app built on it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from affsrv import create_app
from affsrv.apikeys.services import create_api_key
from affsrv.app import import_models
from affsrv.config import database_url
from affsrv.extensions import db
from tests.limits_support import limit_storage  # noqa: F401 - a fixture for every test
from tests.serving import clean_env

BASE_URL = os.environ.get("AFFSRV_DATABASE_URL", "")


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql"))


def create_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the server ``base_url`` names; and a function dropping it."""
    url = make_url(database_url({"database": {"url": base_url}}))
    name = f"affsrv_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'affsrv.db'}"


@pytest.fixture(scope="session")
def _schema(database_url_for_tests: str) -> str:
    import_models()
    app = create_app(overrides={"database": {"url": database_url_for_tests}})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_url_for_tests


def _empty_all_tables(app: Flask) -> None:
    with app.app_context():
        tables = list(reversed(db.metadata.sorted_tables))
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
                conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
                ).first() else None
        db.engine.dispose()


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in extra.items():
        merged.setdefault(section, {}).update(values)
    return merged


@pytest.fixture
def make_app(_schema: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database; keyword sections override the settings, e.g.
    ``make_app(commissions={"require_approval": False})``."""
    apps: list[Flask] = []
    base = {
        "database": {"url": _schema},
        "logs": {"dir": str(tmp_path / "logs")},
        # Tests read what a request wrote right after it: write clicks at once, no caching.
        "tracking": {"click_flush_ms": 0},
        "server": {"cache_seconds": 0},
        # The tests' notification receivers listen on 127.0.0.1, which affsrv refuses by
        # default (tests/notifications/test_destinations.py tests that default).
        "notifications": {"allow_private": ["127.0.0.0/8"]},
    }

    def build(**sections: dict[str, Any]) -> Flask:
        app = create_app(overrides=_deep_merge(base, sections))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["click_buffer"].stop()
        app.extensions["affsrv_logs"].close()
    if apps:
        _empty_all_tables(apps[0])
        for app in apps:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context, for calling services directly."""
    with app.app_context():
        yield


@pytest.fixture
def api_key(app: Flask) -> str:
    with app.app_context():
        return create_api_key("tests")[1]


@pytest.fixture
def server_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for `affsrv` run as a command (`tests/serving.py`) on a fresh database
    of the kind under test, and nothing else."""
    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
    else:
        url, drop = "sqlite:///var/affsrv.db", lambda: None  # the default, relative to cwd
    yield clean_env(AFFSRV_DATABASE_URL=url, AFFSRV_TRACKING_DEFAULT_URL="https://shop.example/")
    drop()
