"""The application object: Flask, remembering ensure_sync's answer for each function."""

from __future__ import annotations

import importlib.util

import flask.app
import pytest


def test_flask_asks_once_per_function_whether_it_is_a_coroutine(app, monkeypatch):
    asked = []
    real = flask.app.iscoroutinefunction
    monkeypatch.setattr(flask.app, "iscoroutinefunction", lambda f: asked.append(f) or real(f))
    client = app.test_client()
    body = {"apikey": "wrong", "affiliate": "a", "data": {"op": "info"}}
    assert client.post("/api", json=body).status_code == 403
    first = len(asked)
    assert first >= 2  # the hooks and the view of that request
    assert client.post("/api", json=body).status_code == 403
    assert len(asked) == first


def test_ensure_sync_answers_as_flask_does(app):
    def plain() -> str:
        return "x"

    async def coroutine() -> str:
        return "x"

    assert app.ensure_sync(plain) is plain
    if importlib.util.find_spec("asgiref") is None:
        # Without Flask's "async" extra Flask refuses an async view, each time.
        for _ in range(2):
            with pytest.raises(RuntimeError, match="async"):
                app.ensure_sync(coroutine)
    else:
        assert app.ensure_sync(coroutine)() == "x"

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> str:
            return "x"

    unhashable = Unhashable()
    assert app.ensure_sync(unhashable) is unhashable


def test_ensure_sync_remembers_a_bounded_number_of_functions(app):
    made = [lambda: None for _ in range(app._MAX_REMEMBERED + 10)]
    for function in made:
        assert app.ensure_sync(function) is function
    assert len(app._sync) <= app._MAX_REMEMBERED
