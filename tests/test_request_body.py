"""What affsrv does with the part of a request's body its answer did not need: it reads and
drops it (up to ``DRAIN_BYTES``) before answering. Closing a connection with data still unread
makes the kernel reset it, and the reset can destroy the answer before the client (or nginx in
front of affsrv) reads it."""

from __future__ import annotations

import io
import socket
import time

import pytest

from affsrv.request_body import DRAIN_BYTES, drain_body
from tests.serving import Server, set_up_merchant


@pytest.fixture
def served(tmp_path, server_env):
    merchant = set_up_merchant(tmp_path, server_env)
    server = Server(tmp_path, server_env)
    yield server, merchant
    server.stop()


def _exchange(port: int, head: str, body: bytes, wait: float = 0.3) -> bytes:
    """Send the whole request, give the server time to answer and close, then read: what a
    client (or nginx) that reads only once it has sent everything gets."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        time.sleep(wait)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


# Answers made without reading the body: each must reach the client.
UNREAD = [
    ("POST", "/nowhere", "404 NOT FOUND"),
    ("POST", "/healthz", "405 METHOD NOT ALLOWED"),
    ("PUT", "/rest/1.3/products/BOOK-1?site=myshop", "403 FORBIDDEN"),  # no valid key
    ("GET", "/r/{code}", "302 FOUND"),  # a landing link that came with a body
]


def test_an_answer_that_did_not_read_the_body_still_reaches_the_client(served):
    server, merchant = served
    body = b'{"padding":"' + b"x" * 30000 + b'"}'
    for method, path, status in UNREAD:
        head = (f"{method} {path.format(code=merchant.code)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nAuthorization: DEV-X:API-Y\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        for attempt in range(3):  # a reset destroys the answer most times, not always
            try:
                answer = _exchange(server.port, head, body)
            except ConnectionResetError:
                pytest.fail(f"{method} {path}: connection reset, the answer lost "
                            f"(attempt {attempt + 1})")
            assert answer.startswith(f"HTTP/1.1 {status}\r\n".encode()), (path, answer[:200])


def test_a_body_declared_longer_than_the_drain_is_not_waited_for(tmp_path, server_env):
    """Over ``DRAIN_BYTES`` the rest of a body is not read: a client that declares 2 MiB and
    sends a few bytes gets its 413 at once, the worker is not held until it sends the rest."""
    env = {**server_env, "AFFSRV_SERVER_MAX_BODY_BYTES": "2048"}
    set_up_merchant(tmp_path, env)
    server = Server(tmp_path, env)
    try:
        head = ("POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {2 * DRAIN_BYTES}\r\n\r\n")
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head.encode() + b'{"apikey":')
            answer = b""
            try:
                while chunk := sock.recv(65536):
                    answer += chunk
            except ConnectionResetError:
                pass  # closed with the body unread, as chosen: the point is that it closed
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < 5, f"the connection stayed open {took:.1f} s waiting for the body"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def _environ(stream: io.BytesIO, **headers: str) -> dict[str, object]:
    return {"wsgi.input": stream, **headers}


def test_drain_reads_a_declared_body_whole_up_to_the_bound():
    stream = io.BytesIO(b"x" * 5000)
    drain_body(_environ(stream, CONTENT_LENGTH="5000"))
    assert stream.tell() == 5000

    at_bound = io.BytesIO(b"x" * DRAIN_BYTES)
    drain_body(_environ(at_bound, CONTENT_LENGTH=str(DRAIN_BYTES)))
    assert at_bound.tell() == DRAIN_BYTES


def test_drain_leaves_a_body_declared_over_the_bound_unread():
    stream = io.BytesIO(b"x" * (DRAIN_BYTES + 1))
    drain_body(_environ(stream, CONTENT_LENGTH=str(DRAIN_BYTES + 1)))
    assert stream.tell() == 0


def test_drain_stops_a_chunked_body_at_the_bound():
    stream = io.BytesIO(b"x" * (3 * DRAIN_BYTES))
    drain_body(_environ(stream, HTTP_TRANSFER_ENCODING="chunked"))
    assert stream.tell() == DRAIN_BYTES


@pytest.mark.parametrize("headers", [{}, {"CONTENT_LENGTH": ""}, {"CONTENT_LENGTH": "0"}],
                         ids=["no-length", "empty-length", "zero-length"])
def test_drain_reads_nothing_from_a_request_without_a_body(headers):
    stream = io.BytesIO(b"next request")  # what a keep-alive connection may hold next
    drain_body(_environ(stream, **headers))
    assert stream.tell() == 0


def test_drain_survives_a_client_that_went_away():
    class Broken(io.BytesIO):
        reads = 0

        def read(self, size: int | None = -1) -> bytes:
            self.reads += 1
            raise OSError("connection reset by peer")

    stream = Broken()
    assert drain_body(_environ(stream, CONTENT_LENGTH="100")) is None  # nothing to answer
    assert stream.reads == 1
