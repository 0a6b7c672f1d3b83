"""Reading a request's body within ``[server] max_body_bytes``, however it was sent."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge


def read_body() -> bytes:
    """The whole body; a 413 (``RequestEntityTooLarge``) when it is over ``MAX_CONTENT_LENGTH``.

    With a ``Content-Length`` Werkzeug refuses an oversized body before reading it. A chunked
    body has no length, and Werkzeug's limited stream then stops reading at the limit without
    an error, so the body would be cut short: a truncated JSON document refused as malformed,
    or a truncated notification, instead of a 413. So one more byte is asked of the server's
    own stream: a body of exactly the limit passes, anything longer is refused.
    """
    body = request.get_data(cache=False)
    limit = request.max_content_length
    if (limit is not None and request.content_length is None and len(body) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return body


# What a request's body still holds when its answer is ready is read (up to this much) and
# dropped before the answer goes out. A server that closes a connection with data still unread
# makes the kernel reset it, and the reset can destroy the answer before the client reads it:
# nginx then reports a failed upstream instead of passing the answer on. 1 MiB: the deploy
# file's client_max_body_size.
DRAIN_BYTES = 1 << 20


def drain_body(environ: dict[str, Any]) -> None:
    """Read and drop what is left of the request's body, at most ``DRAIN_BYTES``; nothing when
    the request has no body or declares one longer than that."""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        if not 0 < int(length) <= DRAIN_BYTES:
            return  # none, or too much to read for an answer the client may not wait for
    elif "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return  # no body at all (a GET, a landing link)
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    left = DRAIN_BYTES
    try:
        while left > 0 and (chunk := stream.read(min(65536, left))):
            left -= len(chunk)
    except Exception:  # the client went away or sent a broken chunk: nothing to answer then
        return


class BodyDrain:
    """WSGI middleware: once the app has made its answer, drain what the request's body still
    holds (``drain_body``), whatever the answer: a refusal before the body was read (a 413, a
    wrong key, an unknown path, a method not allowed) must reach the client as surely as an
    answer that read it all. A body already read costs one empty read."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        answer = self.app(environ, start_response)
        drain_body(environ)
        return answer
