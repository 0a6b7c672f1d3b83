"""Turning marshmallow's error dictionaries into one sentence a merchant can act on."""

from __future__ import annotations

import re
from typing import Any

from affsrv.errors import DomainError

MAX_LABEL = 100  # the label column of API keys and clerk keys


def format_errors(messages: Any, prefix: str = "") -> str:
    """``{"commission": {"saletotal": ["bad"]}}`` -> ``"commission.saletotal: bad"``."""
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "request"
            parts.append(format_errors(value, name))
        return "; ".join(parts)
    text = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
    return f"{prefix}: {text}" if prefix else text


def check_label(label: str) -> str:
    """A key's label as stored, or ``DomainError``: PostgreSQL refuses a longer one with a
    driver error; SQLite would store it whole."""
    if len(label) > MAX_LABEL:
        raise DomainError(f"label: at most {MAX_LABEL} characters (got {len(label)})")
    return label


_SITE = re.compile(r"^[a-z0-9_.-]{1,64}\Z")


def check_site(name: str) -> str:
    """A site (ClickBank account nickname, which is case-insensitive) as stored: lower case,
    or ``DomainError``. Products, clerk keys and orders name their account this way."""
    site = name.strip().lower()
    if not _SITE.match(site):
        raise DomainError(f"site {name[:64]!r}: a ClickBank account nickname is 1 to 64 "
                          "letters, digits, '.', '_' or '-'")
    return site
