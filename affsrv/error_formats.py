"""How each API words the errors the app itself answers: a path or method that does not exist,
a body over the size limit, the database down, an unexpected failure. Each API registers the
format of its paths (the JSON API its ``{"status": "error", ...}``, the REST API and ClickBank's
intake plain text), so its clients get every refusal in the one format they parse, whichever
layer refuses."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, jsonify

ErrorFormat = Callable[[int, str], Response]

_KEY = "affsrv_error_formats"


def json_error(status: int, message: str) -> Response:
    """``{"status": "error", "message": ...}``: the JSON API's error, and the app's default."""
    response = jsonify({"status": "error", "message": message})
    response.status_code = status
    return response


def text_answer(status: int, message: str) -> Response:
    """``message`` as one line of plain text: the REST API's refusals and ClickBank intake's
    answers (``stored`` as well as its refusals)."""
    return Response(message + "\n", status=status, mimetype="text/plain")


def register_error_format(app: Flask, paths: tuple[str, ...], render: ErrorFormat) -> None:
    """Answer the app's own errors on ``paths`` (each a path and everything under it, e.g.
    ``/rest/1.3``) with ``render(status, message)``."""
    app.extensions.setdefault(_KEY, []).append((paths, render))


def error_format(app: Flask, path: str) -> ErrorFormat | None:
    """The format registered for ``path``; None for paths no API claims (pages, the landing
    link)."""
    for paths, render in app.extensions.get(_KEY, ()):
        for prefix in paths:
            if path == prefix or path.startswith(prefix + "/"):
                return render
    return None
