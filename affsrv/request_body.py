"""Reading a request's body within ``[server] max_body_bytes``, however it was sent."""

from __future__ import annotations

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
