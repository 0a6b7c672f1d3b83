"""Separate JSON-lines logs: general errors, referral errors, commission errors, API calls.

Each log is its own file under ``[logs] dir`` and can be switched off. Records pass through a
redaction step first, so API keys, passwords and secret keys never reach a file.

Logging never fails the work it records: a record that cannot be built or written (a value
nested too deep, a log file that became a folder or whose disk is full) is dropped, and the
first such failure of each log is reported once on standard error (gunicorn's error log).
"""

from __future__ import annotations

import contextlib
import logging
import sys
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


# Objects and arrays nested deeper than this are logged as TOO_DEEP: the copy below and the
# JSON renderer both recurse, and a request body may nest as deep as the parser allows.
MAX_LOG_DEPTH = 20
TOO_DEEP = "[nested too deep]"


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of ``value`` with every secret-named key's value replaced, and whatever lies
    more than ``MAX_LOG_DEPTH`` objects or arrays deep replaced by ``TOO_DEEP``."""
    if isinstance(value, Mapping | list | tuple) and _depth >= MAX_LOG_DEPTH:
        return TOO_DEEP
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v, _depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, _depth + 1) for v in value]
    return value


def _report_failure(logger: logging.Logger, error: BaseException) -> None:
    """Say on standard error, once per log, that records of ``logger`` are being lost."""
    if getattr(logger, "affsrv_failure_reported", False):
        return
    logger.affsrv_failure_reported = True  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):  # no standard error either: nothing left to tell
        sys.stderr.write(
            f"affsrv: a record of {logger.name} could not be written and was dropped "
            f"({type(error).__name__}: {error}); later failures of this log are not "
            "reported\n"
        )


class _SafeBoundLogger(structlog.stdlib.BoundLogger):
    """A logger whose every call returns normally: a failure to build or write the record is
    reported (``_report_failure``) instead of raised into the request that logs."""

    def _proxy_to_logger(self, method_name: str, event: str | None = None,
                         *event_args: str, **event_kw: Any) -> Any:
        try:
            return super()._proxy_to_logger(method_name, event, *event_args, **event_kw)
        except Exception as exc:
            _report_failure(self._logger, exc)
            return None


class _LogFileHandler(WatchedFileHandler):
    """A log file whose write errors are reported once (``logging``'s own handler prints a
    traceback for every lost record)."""

    def __init__(self, path: Path, logger: logging.Logger) -> None:
        # WatchedFileHandler reopens the file after logrotate moves it; delay=True creates the
        # file only when there is something to write.
        super().__init__(path, encoding="utf-8", delay=True)
        self._logger = logger

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        _report_failure(self._logger, sys.exc_info()[1] or OSError("unknown error"))


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
                handler = _LogFileHandler(directory / f"{name}.log", logger)
                handler.setFormatter(_JsonLineFormatter())
                logger.addHandler(handler)
                self._handlers.append(handler)
            else:
                logger.addHandler(logging.NullHandler())
            self._loggers[name] = structlog.wrap_logger(
                logger, processors=_PROCESSORS, wrapper_class=_SafeBoundLogger
            )

    def get(self, name: str) -> structlog.stdlib.BoundLogger:
        """The logger of log ``name``; its calls never raise (see the module's text)."""
        if name not in self._loggers:
            raise ValueError(f"unknown log {name!r}")
        return self._loggers[name]

    def close(self) -> None:
        for handler in self._handlers:
            handler.close()



def get_log(name: str) -> structlog.stdlib.BoundLogger:
    """The running app's logger writing to ``<logs dir>/<name>.log``."""
    return current_app.extensions["affsrv_logs"].get(name)
