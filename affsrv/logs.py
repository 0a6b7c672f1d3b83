"""Separate JSON-lines logs: general errors, referral errors, commission errors, API calls.

Each log is its own file under ``[logs] dir`` and can be switched off. Records pass through a
redaction step first, so API keys, passwords and secret keys never reach a file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from logging.handlers import WatchedFileHandler
from pathlib import Path
from typing import Any

import structlog

LOG_NAMES = ("general", "referral", "commission", "api")
REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {"apikey", "api_key", "password", "password_hash", "secret_key", "secret", "authorization",
     "smtp_password", "key"}
)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-named key's value replaced."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redact_processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


_PROCESSORS = [
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.add_log_level,
    _redact_processor,
    structlog.processors.format_exc_info,
    structlog.processors.JSONRenderer(sort_keys=False, default=str),
]


def configure_logs(settings: Mapping[str, Any]) -> None:
    """Attach one file handler per enabled log; a disabled log drops its records."""
    directory = Path(settings["dir"])
    for name in LOG_NAMES:
        logger = logging.getLogger(f"affsrv.{name}")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.propagate = False
        logger.setLevel(logging.INFO)
        if settings[name]:
            directory.mkdir(parents=True, exist_ok=True)
            # WatchedFileHandler reopens the file after logrotate moves it.
            handler = WatchedFileHandler(directory / f"{name}.log", encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
        else:
            logger.addHandler(logging.NullHandler())


_loggers: dict[str, structlog.stdlib.BoundLogger] = {}


def get_log(name: str) -> structlog.stdlib.BoundLogger:
    """The structlog logger writing to ``<logs dir>/<name>.log``.

    Made once per name: it wraps the named stdlib logger, whose handlers ``configure_logs``
    replaces in place, so a cached one always writes where the current settings say."""
    found = _loggers.get(name)
    if found is None:
        if name not in LOG_NAMES:
            raise ValueError(f"unknown log {name!r}")
        found = _loggers[name] = structlog.wrap_logger(
            logging.getLogger(f"affsrv.{name}"),
            processors=_PROCESSORS,
            wrapper_class=structlog.stdlib.BoundLogger,
        )
    return found
