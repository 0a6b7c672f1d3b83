"""Configuration: defaults, then a TOML file, then environment variables.

Every key lives in ``DEFAULTS``; its default's type is the key's type. A file or variable naming
an unknown key, or giving a value of the wrong type, stops start-up with a message naming the key,
because a typo in an operator's script must not silently fall back to a default.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

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
        # Whether affiliates may close their own account in the affiliate area.
        "allow_close": True,
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
        # Non-public networks receivers may be in (CIDRs, e.g. "10.0.0.0/8"); none by default.
        "allow_private": [],
    },
    "health": {
        "max_due_seconds": 300,
        "worker_stale_seconds": 60,
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
    "limits": {
        "storage_url": "",
        "key_prefix": "affsrv",
        "ins_failures_per_address": "10 per minute; 100 per day",
        "ins_failures_per_account": "30 per minute; 300 per day",
        "api_key_failures_per_address": "10 per minute; 100 per day",
        "report_key_failures_per_address": "10 per minute; 100 per day",
        "rest_key_failures_per_address": "10 per minute; 100 per day",
        "rest_key_failures_per_key": "10 per minute; 100 per day",
        # Sign-ups in the affiliate area from one address (an IPv6 /64).
        "signups_per_address": "5 per hour; 20 per day",
    },
    "reports": {
        "max_days": 1096,
        "shop_account": "shop",
    },
    "web": {
        "secret_key": "",
        "public_url": "",
        "session_hours": 12,
        "signin_link_hours": 24,
        "signin_failures_per_account": 10,
        "signin_failures_per_ip": 50,
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
    "health.max_due_seconds": (0, 365 * 86400),
    "health.worker_stale_seconds": (5, 86400),
    "reports.max_days": (1, 36_600),
    "mail.port": (1, 65535),
    "mail.timeout_seconds": (1, 3600),
    "web.session_hours": (1, 24 * 90),
    "web.signin_link_hours": (1, 24 * 30),
    "web.signin_failures_per_account": (1, 1000),
    "web.signin_failures_per_ip": (1, 100_000),
}

# What every text key whose value can be wrong must look like, and how to say so. A value
# outside these would not fail at start-up but later, on every request (an empty cookie name,
# a cookie domain carrying "; attributes", a landing URL without a host) or with a traceback
# (a database URL no driver here reads). config.example.toml says the same beside each key.


def _is_database_url(value: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url({"database": {"url": value}}))
    except (ArgumentError, ValueError):
        return False
    if url.drivername in {"sqlite", "sqlite+pysqlite"}:
        return bool(url.database)
    # No host is libpq's default, the local Unix socket (postgresql:///affsrv).
    return url.drivername == "postgresql+psycopg"


def bind_host(value: str) -> str:
    """The host of a ``HOST:PORT`` bind address, without an IPv6 address's brackets."""
    host = value.rpartition(":")[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _is_bind(value: str) -> bool:
    if value.startswith("unix:"):
        return len(value) > len("unix:")
    host, (_, sep, port) = bind_host(value), value.rpartition(":")
    return (bool(sep) and bool(host) and host.isprintable() and " " not in host
            and port.isascii() and port.isdigit() and 1 <= int(port) <= 65535)


def _is_time_zone(value: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_web_url(value: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return (parts.scheme in {"http", "https"} and bool(parts.hostname)
            and value.isprintable() and " " not in value)


def _is_money_limit(value: str) -> bool:
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(value)
    except InvalidOperation:
        return False
    # Amounts are NUMERIC(14,2): a limit beyond 12 whole digits would let through sales the
    # database refuses.
    return amount.is_finite() and 0 < amount < 10**12


def _is_limit_storage(value: str) -> bool:
    from urllib.parse import urlsplit

    if value in {"", "memory://"}:
        return True
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    if parts.scheme == "redis+unix":
        return bool(parts.path) and value.isprintable()
    return parts.scheme in {"redis", "rediss"} and bool(parts.hostname) and value.isprintable()


def _is_rate_limits(value: str) -> bool:
    """One or more Flask-Limiter limits ("10 per minute; 100 per day"), each of at least 1."""
    from limits import parse_many

    try:
        items = parse_many(value)
    except ValueError:
        return False
    return bool(items) and all(item.amount >= 1 for item in items)


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")


def _is_address(value: str) -> bool:
    """One e-mail address, bare or with a display name ("Shop <shop@example.com>"), on one
    line (a header value)."""
    from email.utils import getaddresses

    addresses = getaddresses([value])
    return (value.isprintable() and len(addresses) == 1
            and bool(_ADDRESS.fullmatch(addresses[0][1])))


TEXT_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "database.url": (_is_database_url, "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/"
                                       "DATABASE (psycopg 3)"),
    "server.bind": (_is_bind, "HOST:PORT (port 1 to 65535) or unix:PATH"),
    "server.timezone": (_is_time_zone, "an IANA time zone such as UTC or Europe/Berlin"),
    "tracking.param": (re.compile(r"[A-Za-z0-9_.-]{1,64}").fullmatch,
                       "1 to 64 letters, digits, '_', '-' or '.'"),
    "tracking.cookie_name": (re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}").fullmatch,
                             "a cookie name: 1 to 64 letters, digits or !#$%&'*+-.^_`|~"),
    "tracking.cookie_domain": (re.compile(rf"(?:\.?{_LABEL}(?:\.{_LABEL})*)?").fullmatch,
                               "empty or a domain name such as .shop.example"),
    "tracking.default_url": (_is_web_url, "an http(s) URL with a host"),
    "commissions.currency": (re.compile(r"[A-Z]{3}").fullmatch,
                             "a three-letter currency code in capitals, such as USD"),
    "commissions.max_saletotal": (_is_money_limit,
                                  "a positive decimal below 1000000000000, such as \"5000.00\""),
    "limits.storage_url": (_is_limit_storage, "empty (memory://, counted in each process), "
                                              "redis://HOST:PORT/DB, rediss://... or "
                                              "redis+unix://PATH"),
    "limits.key_prefix": (re.compile(r"[A-Za-z0-9_.:-]{1,64}").fullmatch,
                          "1 to 64 letters, digits, '_', '-', '.' or ':'"),
    **{f"limits.{name}": (_is_rate_limits, "limits such as \"10 per minute; 100 per day\"")
       for name in ("ins_failures_per_address", "ins_failures_per_account",
                    "api_key_failures_per_address", "report_key_failures_per_address",
                    "rest_key_failures_per_address", "rest_key_failures_per_key",
                    "signups_per_address")},
    "reports.shop_account": (re.compile(r"[A-Za-z0-9._-]{1,64}").fullmatch,
                             "1 to 64 letters, digits, '.', '_' or '-'"),
    "mail.security": ({"none", "starttls", "ssl"}.__contains__, "none, starttls or ssl"),
    "mail.from": (_is_address, "an e-mail address, such as shop@example.com or "
                               "Shop <shop@example.com>"),
    "mail.admin": (lambda value: not value or _is_address(value), "empty or an e-mail address"),
    # A session secret shorter than this could be guessed offline from one signed cookie.
    "web.secret_key": (lambda value: not value or (len(value) >= 32 and value.isprintable()),
                       "empty (generated and kept in the database) or at least 32 characters"),
    "web.public_url": (lambda value: not value or (_is_web_url(value) and "?" not in value
                                                   and "#" not in value),
                       "empty or an http(s) URL without query, such as "
                       "https://affiliates.shop.example"),
}


def _private_range_problem(value: str) -> str | None:
    """Why ``value`` cannot be a ``notifications.allow_private`` entry (None when it can)."""
    import ipaddress

    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return f"must be an IP network such as 127.0.0.0/8 or fd00::/8 ({exc})"
    if network.prefixlen == 0:
        return "must not be the whole address space (name the private range you need)"
    return None


# Keys whose value is a list of text, and the rule each item follows.
LIST_RULES: dict[str, Callable[[str], str | None]] = {
    "notifications.allow_private": _private_range_problem,
}

ENV_PREFIX = "AFFSRV_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the offending key."""


def _coerce_env(key: str, raw: str, default: Any) -> Any:
    if isinstance(default, list):  # comma-separated: "10.0.0.0/8,fd00::/8"
        return [item.strip() for item in raw.split(",") if item.strip()]
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
    if isinstance(value, list) and not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")


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
        except OSError as exc:  # a folder, no permission
            raise ConfigError(f"config file {file} cannot be read: {exc.strerror}") from None
        except UnicodeDecodeError:  # tomllib decodes the whole file first
            raise ConfigError(f"config file {file} is not UTF-8 text (TOML must be)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file}: {exc}") from None
        _merge_file(settings, data)
    _merge_env(settings, environ)
    if overrides:
        _merge_file(settings, overrides)
    _validate(settings)
    return settings


def _validate(settings: dict[str, dict[str, Any]]) -> None:
    for name, (low, high) in INT_RANGES.items():
        section, key = name.split(".")
        if not low <= settings[section][key] <= high:
            raise ConfigError(f"{name}: must be from {low} to {high}, got {settings[section][key]}")
    for name, (check, rule) in TEXT_RULES.items():
        section, key = name.split(".")
        value = settings[section][key]
        if not check(value):
            # A database or Redis URL may hold a password, and a secret key is one: named,
            # never echoed.
            shown = ("" if name in {"database.url", "limits.storage_url", "web.secret_key"}
                     else f", got {value!r}")
            raise ConfigError(f"{name}: must be {rule}{shown}")
    for name, problem in LIST_RULES.items():
        section, key = name.split(".")
        for item in settings[section][key]:
            reason = problem(item)
            if reason:
                raise ConfigError(f"{name}: {item!r} {reason}")
    notifications = settings["notifications"]
    if notifications["max_retry_seconds"] < notifications["first_retry_seconds"]:
        raise ConfigError("notifications.max_retry_seconds: must not be below first_retry_seconds")


def database_url(settings: Mapping[str, Mapping[str, Any]]) -> str:
    """The SQLAlchemy URL; ``postgresql://`` is routed to psycopg 3."""
    url: str = settings["database"]["url"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Words in a key's name that make its value a secret: shown only as set or not set.
_SECRET_WORDS = frozenset({"secret", "password", "token", "dsn", "credentials"})


def is_secret_key(key: str) -> bool:
    """Whether the setting called ``key`` holds a secret (``secret_key``, ``password``, ...).
    A name ending in ``key`` is one; ``key_prefix`` or ``api_key_failures_per_address`` are
    not."""
    words = key.lower().split("_")
    return words[-1] == "key" or bool(_SECRET_WORDS.intersection(words))


def _without_password(url: str) -> str:
    """``url`` with the password in its user part (``user:password@``) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}"))


def shown_value(key: str, value: Any) -> str:
    """A setting as the configuration page shows it: a secret as ``set``/``not set``, a URL
    without its password, a list comma-separated."""
    if is_secret_key(key):
        return "set" if value else "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    if isinstance(value, str):
        if "://" in value:
            return _without_password(value)
        return value if value else "(empty)"
    return str(value)


def shown_settings(settings: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[
        tuple[str, str]]]]:
    """Every setting in force, section by section in ``DEFAULTS``' order, as shown to people
    (``shown_value``)."""
    return [(section, [(key, shown_value(key, settings[section][key])) for key in keys])
            for section, keys in DEFAULTS.items()]
