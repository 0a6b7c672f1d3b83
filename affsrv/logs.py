"""Separate JSON-lines logs: general errors, referral errors, commission errors, API calls.

Each log is its own file under ``[logs] dir`` and can be switched off. Records pass through a
redaction step first, so API keys, passwords and secret keys never reach a file.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from logging.handlers import WatchedFileHandler
from pathlib import Path
from typing import Any

import structlog
from flask import current_app

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


def _make_directory(directory: Path) -> None:
    """Create the logs folder, or stop start-up naming the setting (not a traceback)."""
    from affsrv.config import ConfigError

    try:
        directory.mkdir(parents=True, exist_ok=True)
        # A nameless file (its own per process: workers start side by side), gone when closed.
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise ConfigError(
            f"logs.dir: cannot write log files in {str(directory)!r}: {exc.strerror}"
        ) from None


class _JsonLineFormatter(logging.Formatter):
    """The rendered JSON only: the traceback is already inside it, and one record must stay
    one line."""

    def format(self, record: logging.LogRecord) -> str:
        return record.getMessage()


class AppLogs:
    """One app's four loggers. They are private to the app (not in logging's global tree), so
    two apps in one process (tests, a worker beside the server) keep their own settings."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        directory = Path(settings["dir"])
        self._loggers: dict[str, structlog.stdlib.BoundLogger] = {}
        self._handlers: list[logging.Handler] = []
        for name in LOG_NAMES:
            logger = logging.Logger(f"affsrv.{name}", logging.INFO)
            if settings[name]:
                _make_directory(directory)
                # WatchedFileHandler reopens the file after logrotate moves it; delay=True
                # creates the file only when there is something to write.
                handler = WatchedFileHandler(
                    directory / f"{name}.log", encoding="utf-8", delay=True
                )
                handler.setFormatter(_JsonLineFormatter())
                logger.addHandler(handler)
                self._handlers.append(handler)
            else:
                logger.addHandler(logging.NullHandler())
            self._loggers[name] = structlog.wrap_logger(
                logger, processors=_PROCESSORS, wrapper_class=structlog.stdlib.BoundLogger
            )

    def get(self, name: str) -> structlog.stdlib.BoundLogger:
        if name not in self._loggers:
            raise ValueError(f"unknown log {name!r}")
        return self._loggers[name]

    def close(self) -> None:
        for handler in self._handlers:
            handler.close()



def get_log(name: str) -> structlog.stdlib.BoundLogger:
    """The running app's logger writing to ``<logs dir>/<name>.log``."""
    return current_app.extensions["affsrv_logs"].get(name)
