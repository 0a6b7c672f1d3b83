"""Turning marshmallow's error dictionaries into one sentence a merchant can act on."""

from __future__ import annotations

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
