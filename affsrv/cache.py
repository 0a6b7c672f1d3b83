"""A short-lived per-process cache, for the API key check (affiliates and products have their
directories, ``affsrv.directory``).

An entry lives ``[server] cache_seconds``, so a revoked key stops working in every worker within
that time. Creating or revoking an API key also clears the key cache of the process that did it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TTLCache

_MISSING = object()


class Memo:
    """A thread-safe TTL cache in front of a loader function."""

    def __init__(self, maxsize: int = 50_000) -> None:
        self._maxsize = maxsize
        self._ttl: float | None = None
        self._cache: TTLCache[Hashable, Any] | None = None
        self._lock = threading.Lock()

    def get(self, key: Hashable, ttl: float, load: Callable[[], Any]) -> Any:
        if ttl <= 0:
            return load()
        with self._lock:
            if self._cache is None or self._ttl != ttl:
                self._cache = TTLCache(maxsize=self._maxsize, ttl=ttl)
                self._ttl = ttl
            value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = load()
            with self._lock:
                if self._cache is not None:
                    self._cache[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.clear()
