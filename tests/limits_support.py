"""The storage of the failure limits under test: in process, or the Redis server at
127.0.0.1:6379 under a key prefix of the test's own (its keys deleted afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def limit_storage(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """``[limits]`` settings naming the storage; merge the limits under test into them."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "memory":
        yield {"storage_url": "", "key_prefix": prefix}
        return
    yield {"storage_url": REDIS_URL, "key_prefix": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def redis_keys(prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return list(client.scan_iter(match=f"*{prefix}*"))
    finally:
        client.close()
