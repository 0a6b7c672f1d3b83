"""Helpers shared by the domain command groups."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from flask import current_app

from affsrv.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])

# A record id as its column holds it: a number out of range could not name a row, and the
# database would refuse it with a driver error instead of a message.
ID = click.IntRange(1, 2**31 - 1)  # Integer ids (affiliates, products, keys, subscriptions)
BIG_ID = click.IntRange(1, 2**63 - 1)  # BigId ids (commissions, payments, messages, ...)


def domain_errors(func: F) -> F:
    """Show a service's refusal as ``Error: ...`` with exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None

    return wrapper  # type: ignore[return-value]


def local_time(value: datetime | None) -> str:
    """A stored UTC time shown in ``[server] timezone``."""
    if value is None:
        return "-"
    zone = ZoneInfo(current_app.config["AFFSRV"]["server"]["timezone"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
