"""Configuration: defaults, then a TOML file, then environment variables.

Every key lives in ``DEFAULTS``; its default's type is the key's type. A file or variable naming
an unknown key, or giving a value of the wrong type, stops start-up with a message naming the key,
because a typo in an operator's script must not silently fall back to a default.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "database": {
        "url": "sqlite:///var/affsrv.db",
    },
    "server": {
        "bind": "127.0.0.1:8000",
        "workers": 2,
        "timezone": "UTC",
        "max_body_bytes": 65536,
        "trusted_proxies": 0,
        "cache_seconds": 5,
    },
    "tracking": {
        "param": "maff",
        "cookie_name": "maff",
        "cookie_days": 60,
        "cookie_domain": "",
        "default_url": "https://shop.example/",
        "click_flush_ms": 2000,
        "click_flush_max": 10000,
    },
    "affiliates": {
        "require_approval": False,
    },
    "commissions": {
        "require_approval": True,
        "allow_self_referral": False,
        "currency": "USD",
        "max_saletotal": "1000000.00",
    },
    "notifications": {
        "max_attempts": 8,
        "first_retry_seconds": 30,
        "max_retry_seconds": 21600,
        "timeout_seconds": 5,
        "worker_poll_seconds": 1,
        "batch_size": 20,
        "vendor": "affsrv",
        "keep_days": 90,
    },
    "mail": {
        "enabled": True,
        "host": "127.0.0.1",
        "port": 25,
        "security": "none",
        "username": "",
        "password": "",
        "from": "affsrv@localhost",
        "admin": "",
        "affiliate_emails": True,
        "admin_emails": True,
        "timeout_seconds": 10,
    },
    "logs": {
        "dir": "logs",
        "general": True,
        "referral": True,
        "commission": True,
        "api": False,
    },
}

# The range (inclusive) of every whole-number key. Beyond these a value would fail later, and
# far from its cause (a cookie expiry or a retry time past year 9999, a sleep too long for the
# OS), or make no sense (a negative count). config.example.toml shows the same ranges.
INT_RANGES: dict[str, tuple[int, int]] = {
    "server.workers": (1, 64),
    "server.max_body_bytes": (1024, 100 * 1024 * 1024),
    "server.trusted_proxies": (0, 10),
    "server.cache_seconds": (0, 3600),
    "tracking.cookie_days": (1, 3650),
    "tracking.click_flush_ms": (0, 60_000),
    "tracking.click_flush_max": (1, 1_000_000),
    "notifications.max_attempts": (1, 100),
    "notifications.first_retry_seconds": (1, 365 * 86400),
    "notifications.max_retry_seconds": (1, 365 * 86400),
    "notifications.timeout_seconds": (1, 3600),
    "notifications.worker_poll_seconds": (1, 3600),
    "notifications.batch_size": (1, 10_000),
    "notifications.keep_days": (0, 36_500),
    "mail.port": (1, 65535),
    "mail.timeout_seconds": (1, 3600),
}

ENV_PREFIX = "AFFSRV_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


def _coerce_env(key: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{key}: expected true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key}: expected a whole number, got {raw!r}") from None
    return raw


def _check_type(key: str, value: Any, default: Any) -> None:
    expected = type(default)
    # bool is a subclass of int: reject True for an int key and 1 for a bool key alike.
    if isinstance(value, bool) != isinstance(default, bool) or not isinstance(value, expected):
        raise ConfigError(
            f"{key}: expected {expected.__name__}, got {type(value).__name__} ({value!r})"
        )


def _merge_file(settings: dict[str, dict[str, Any]], data: Mapping[str, Any]) -> None:
    for section, values in data.items():
        if section not in settings:
            raise ConfigError(f"unknown section [{section}]")
        if not isinstance(values, Mapping):
            raise ConfigError(f"[{section}] must be a table")
        for key, value in values.items():
            name = f"{section}.{key}"
            if key not in settings[section]:
                raise ConfigError(f"unknown key {name}")
            _check_type(name, value, DEFAULTS[section][key])
            settings[section][key] = value


def _merge_env(settings: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    known = {
        f"{ENV_PREFIX}{section}_{key}".upper(): (section, key)
        for section, values in DEFAULTS.items()
        for key in values
    }
    for var, raw in environ.items():
        if not var.startswith(ENV_PREFIX) or var in {"AFFSRV_CONFIG"}:
            continue
        if var.startswith("AFFSRV_TEST_"):
            continue  # the test suite's own switches
        if var not in known:
            raise ConfigError(f"unknown environment variable {var}")
        section, key = known[var]
        settings[section][key] = _coerce_env(var, raw, DEFAULTS[section][key])


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Build the settings: defaults, the TOML file (``path`` or ``$AFFSRV_CONFIG``), the
    environment, then ``overrides`` (used by tests and the CLI)."""
    environ = os.environ if environ is None else environ
    settings = copy.deepcopy(DEFAULTS)
    path = path or environ.get("AFFSRV_CONFIG") or None
    if path:
        file = Path(path)
        try:
            with file.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"config file {file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file}: {exc}") from None
        _merge_file(settings, data)
    _merge_env(settings, environ)
    if overrides:
        _merge_file(settings, overrides)
    _validate(settings)
    return settings


def _validate(settings: dict[str, dict[str, Any]]) -> None:
    from decimal import Decimal, InvalidOperation
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(settings["server"]["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"server.timezone: unknown time zone {settings['server']['timezone']!r}"
        ) from None
    try:
        if Decimal(settings["commissions"]["max_saletotal"]) <= 0:
            raise InvalidOperation
    except InvalidOperation:
        raise ConfigError("commissions.max_saletotal: expected a positive decimal") from None
    for name, (low, high) in INT_RANGES.items():
        section, key = name.split(".")
        if not low <= settings[section][key] <= high:
            raise ConfigError(f"{name}: must be from {low} to {high}, got {settings[section][key]}")
    if not settings["tracking"]["default_url"].startswith(("http://", "https://")):
        raise ConfigError("tracking.default_url: must be an http(s) URL")
    notifications = settings["notifications"]
    if notifications["max_retry_seconds"] < notifications["first_retry_seconds"]:
        raise ConfigError("notifications.max_retry_seconds: must not be below first_retry_seconds")
    mail = settings["mail"]
    if mail["security"] not in {"none", "starttls", "ssl"}:
        raise ConfigError("mail.security: must be none, starttls or ssl")


def database_url(settings: Mapping[str, Mapping[str, Any]]) -> str:
    """The SQLAlchemy URL; ``postgresql://`` is routed to psycopg 3."""
    url: str = settings["database"]["url"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
