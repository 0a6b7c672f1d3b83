"""Errors the app answers itself (a path or method that does not exist, a body over the limit,
the database down) come in the format of the API the path belongs to: JSON for ``/api``, plain
text for the REST API and ClickBank's intake, whichever layer refuses."""

from __future__ import annotations

import pytest

TEXT = "text/plain; charset=utf-8"
DOWN = {"database": {"url": "postgresql://postgres@127.0.0.1:1/affsrv"}}  # nothing listens


@pytest.fixture
def app_first(app):
    """The fixtures empty the tables through the first app built: build a working one first."""
    return app


def test_the_rest_api_answers_an_unknown_path_in_plain_text(client):
    for path in ("/rest/1.3/nosuch", "/rest/1.3", "/rest/1.3/products/list/extra"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.content_type == TEXT, path
        assert answer.text.startswith("The requested URL was not found"), path


def test_the_rest_api_answers_a_wrong_method_in_plain_text_with_allow(client):
    answer = client.delete("/rest/1.3/orders2/count")
    assert answer.status_code == 405
    assert answer.content_type == TEXT
    assert answer.text == "The method is not allowed for the requested URL.\n"
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_the_rest_api_answers_a_database_down_in_plain_text(app_first, make_app):
    answer = make_app(**DOWN).test_client().get(
        "/rest/1.3/products/list?site=myshop", headers={"Authorization": "DEV-A:API-B"})
    assert answer.status_code == 503
    assert answer.content_type == TEXT
    assert answer.text == "the database is unavailable; try again shortly\n"


def test_the_json_api_answers_a_wrong_method_in_json_with_allow(client):
    answer = client.get("/api")
    assert answer.status_code == 405
    assert answer.json == {"status": "error",
                           "message": "The method is not allowed for the requested URL."}
    assert set(answer.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert client.put("/index.php").json["status"] == "error"


def test_the_json_api_answers_a_database_down_in_json(app_first, make_app):
    answer = make_app(**DOWN).test_client().post(
        "/api", json={"apikey": "k", "affiliate": "a", "data": {"op": "info"}})
    assert answer.status_code == 503
    assert answer.json == {"status": "error",
                           "message": "the database is unavailable; try again shortly"}


def test_clickbank_intake_answers_its_own_errors_in_plain_text(app_first, make_app):
    app = make_app(server={"max_body_bytes": 1024})
    client = app.test_client()
    answer = client.get("/ins/clickbank/myshop")
    assert (answer.status_code, answer.content_type) == (405, TEXT)
    assert set(answer.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}  # in any order
    answer = client.post("/ins/clickbank/myshop", data=b"x" * 2000,
                         content_type="application/json")
    assert (answer.status_code, answer.content_type) == (413, TEXT)
    assert answer.text == "request body too large (limit 1024 bytes)\n"
    answer = make_app(**DOWN).test_client().post(
        "/ins/clickbank/myshop", json={"notification": "x", "iv": "y"})
    assert (answer.status_code, answer.content_type) == (503, TEXT)


def test_pages_no_api_claims_keep_the_standard_error_pages(client):
    # A visitor's browser, not an API client: the usual HTML page.
    for answer, status in ((client.get("/nowhere"), 404), (client.post("/r/abc"), 405),
                           (client.get("/rest/1.3x"), 404), (client.get("/apis"), 404)):
        assert answer.status_code == status
        assert answer.content_type == "text/html; charset=utf-8"
