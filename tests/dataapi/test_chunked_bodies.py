"""Bodies sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``), as streaming
HTTP clients send them, through `affsrv serve` (gunicorn decodes the chunks): the same
answers as with a length, and the same 413 over ``max_body_bytes``, never a body cut short."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.serving import Server, set_up_merchant

LIMIT = 2048


def _chunks(data: bytes, size: int = 500) -> Iterator[bytes]:
    # A generator: requests sends it chunked, without a Content-Length.
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.fixture
def served(tmp_path, server_env):
    env = {**server_env, "AFFSRV_SERVER_MAX_BODY_BYTES": str(LIMIT)}
    merchant = set_up_merchant(tmp_path, env)
    server = Server(tmp_path, env)
    yield server, merchant.key, merchant.code
    server.stop()


def _body(key: str, code: str, size: int) -> bytes:
    """An info call padded (with an ignored field) to exactly ``size`` bytes."""
    head = json.dumps({"apikey": key, "affiliate": code, "data": {"op": "info"}, "pad": ""})
    return (head[:-2] + "x" * (size - len(head)) + '"}').encode()


def _post(server: Server, path: str, data: bytes, chunked: bool) -> requests.Response:
    return requests.post(f"{server.base}{path}", data=_chunks(data) if chunked else data,
                         headers={"Content-Type": "application/json"}, timeout=10)


@pytest.mark.parametrize("chunked", [False, True], ids=["with-length", "chunked"])
def test_a_body_up_to_the_limit_is_read_whole(served, chunked):
    server, key, code = served
    for size in (300, LIMIT):
        answer = _post(server, "/api", _body(key, code, size), chunked)
        assert answer.status_code == 200, (size, answer.text)
        assert answer.json()["data"]["code"] == code


@pytest.mark.parametrize("chunked", [False, True], ids=["with-length", "chunked"])
def test_a_body_over_the_limit_is_413_in_the_error_format(served, chunked):
    server, key, code = served
    for size in (LIMIT + 1, 20 * LIMIT):
        answer = _post(server, "/api", _body(key, code, size), chunked)
        assert answer.status_code == 413, (size, answer.text)
        assert answer.json() == {"status": "error",
                                 "message": f"request body too large (limit {LIMIT} bytes)"}
    # A notification for ClickBank's intake is held to the same limit.
    answer = _post(server, "/ins/clickbank/myshop", b'{"notification":"' + b"A" * 3000 + b'"}',
                   chunked)
    assert answer.status_code == 413
