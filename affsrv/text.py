"""Text no database can store, and the strings inside decoded JSON.

JSON can carry a NUL (``\\u0000``) and half of a UTF-16 pair (an unpaired surrogate such as
``\\ud800``), and Python keeps command-line bytes that are not UTF-8 as such surrogates;
neither can be stored as text (PostgreSQL refuses NUL, and no database can encode a surrogate
as UTF-8). The Data API and the ``affsrv`` command refuse them; a ClickBank notification,
which ClickBank would only send again, is stored with them replaced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")


def any_string(value: Any, test: Callable[[str], Any]) -> bool:
    """Whether ``test`` is true of any string in decoded JSON ``value``, keys included."""
    waiting = [value]  # a stack, not recursion: decoders accept nesting near Python's limit
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if test(item):
                return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False


def replace_surrogates(value: Any) -> Any:
    """``value`` with every unpaired surrogate in its strings (keys included) replaced by
    U+FFFD, the replacement character. Recursive: for documents of bounded depth."""
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_surrogates(k): replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_surrogates(item) for item in value]
    return value


def fold_case(text: str) -> str:
    """``text`` in the form caseless matching compares: Unicode's compatibility caseless
    match (NFKC, case folding, NFKC again), so "MÜLLER" matches "müller", "STRASSE" matches
    "straße" and a decomposed "e\u0301" matches "\u00e9". Done in Python because neither
    database can: SQLite's ``lower()`` folds ASCII letters only, and PostgreSQL's follows its
    locale and differs from case folding (final sigma, dotted I, ligatures)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
