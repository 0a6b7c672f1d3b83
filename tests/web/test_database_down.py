"""The database down: every page answers 503 with the web error page, also when the session's
secret is the generated one kept in that database (which Flask reads before any handler can
answer); the JSON API beside them keeps its own format."""

from __future__ import annotations

import pytest

from tests.web.support import csrf_token

# Nothing listens on port 1; the SQLite file's folder does not exist, so it cannot be opened.
UNREACHABLE = {
    "postgresql": "postgresql://postgres@127.0.0.1:1/affsrv",
    "sqlite": "sqlite:////nonexistent-affsrv-folder/affsrv.db",
}
PAGES = ["/", "/login", "/account", "/admin/affiliates", "/admin/accounts",
         "/admin/notifications", "/admin/keys", "/admin/keys/clerk", "/admin/keys/reporting",
         "/admin/settings", "/affiliate/login", "/affiliate/signup", "/affiliate/dashboard"]


@pytest.fixture
def app_first(app):
    """The fixtures empty the tables through the first app built: build a working one first."""
    return app


def _is_error_page(answer) -> bool:
    page = answer.get_data(as_text=True)
    return (answer.content_type.startswith("text/html")
            and "<h1>503 Service Unavailable</h1>" in page
            and "the database is unavailable; try again shortly" in page
            and answer.headers["Content-Security-Policy"].startswith("default-src 'none'"))


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_every_page_answers_503_when_the_generated_secret_cannot_be_read(app_first, make_app,
                                                                         kind):
    client = make_app(database={"url": UNREACHABLE[kind]}).test_client()
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 503, (path, answer.status_code)
        assert _is_error_page(answer), path
        assert "Set-Cookie" not in answer.headers, path
    assert client.post("/login", data={"email": "a@b.example"}).status_code == 503
    api = client.post("/api", json={"apikey": "k", "affiliate": "a", "data": {"op": "info"}})
    assert api.status_code == 503
    assert api.json == {"status": "error",
                        "message": "the database is unavailable; try again shortly"}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_a_page_that_reads_the_database_answers_503_with_a_configured_secret(app_first,
                                                                              make_app, kind):
    client = make_app(database={"url": UNREACHABLE[kind]},
                      web={"secret_key": "s" * 40}).test_client()
    token = csrf_token(client, "/login")  # the sign-in form itself needs no database
    answer = client.post("/login", data={"csrf_token": token, "email": "owner@shop.example",
                                         "password": "correct horse battery"})
    assert answer.status_code == 503
    assert _is_error_page(answer)


def test_an_unknown_page_is_the_error_page_with_the_security_headers(client):
    answer = client.get("/admin/no-such-page")
    assert answer.status_code == 404
    assert "<h1>404 Not Found</h1>" in answer.text
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
