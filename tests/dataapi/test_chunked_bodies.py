"""Bodies sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``), as streaming
HTTP clients send them, through `affsrv serve` (gunicorn decodes the chunks): the same
answers as with a length, and the same 413 over ``max_body_bytes``, never a body cut short."""

from __future__ import annotations

import json
import socket
import time
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


def test_an_oversized_body_is_read_before_the_413_so_the_answer_arrives(served):
    """A server that closes a connection with part of the body still unread makes the kernel
    reset it, and the reset can destroy the 413 before the client (nginx, say, still sending
    the body) reads it: nginx then reports a failed upstream instead of passing the 413 on.
    The whole body arrives before the client reads; the answer must still be there."""
    server, key, code = served
    body = _body(key, code, 20 * LIMIT)
    head = (f"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        time.sleep(0.5)  # the server has answered and closed by now
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert answer.endswith(b'"message":"request body too large (limit 2048 bytes)"}\n')
