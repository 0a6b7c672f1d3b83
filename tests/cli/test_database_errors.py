"""A command run against a database it cannot use says what the database said and what to
check, with exit status 1, never a traceback."""

from collections.abc import Iterator

import pytest

from tests.conftest import BASE_URL, _is_postgres, create_postgres_database
from tests.serving import clean_env, free_port, run_affsrv


def _says_so(done, said: str) -> None:
    assert done.returncode == 1, done
    assert done.stderr.startswith("Error: database: ") and said in done.stderr
    assert "affsrv db upgrade" in done.stderr and "Traceback" not in done.stderr


def test_a_command_on_an_unreachable_server_says_so(tmp_path):
    # Nothing listens on the port.
    env = clean_env(AFFSRV_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/affsrv")
    _says_so(run_affsrv(["affiliate", "list"], tmp_path, env), "Connection refused")


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """A database of the suite's kind without affsrv's schema."""
    if _is_postgres(BASE_URL):
        url, drop = create_postgres_database(BASE_URL)
        yield url
        drop()
    else:
        yield "sqlite:///var/empty.db"


def test_a_command_before_the_schema_is_made_says_so(tmp_path, empty_database):
    """Run before `affsrv db upgrade` (or `affsrv serve`): SQLite reports a missing table as an
    operational error, PostgreSQL as a programming error; both are the same advice."""
    env = clean_env(AFFSRV_DATABASE_URL=empty_database)
    said = ('relation "affiliates" does not exist' if _is_postgres(BASE_URL)
            else "no such table: affiliates")
    _says_so(run_affsrv(["affiliate", "list"], tmp_path, env), said)


def test_requests_before_the_schema_is_made_answer_503(make_app, app, empty_database, tmp_path):
    # (`app` first: the fixtures empty the tables through the first app built.)
    bare = make_app(database={"url": empty_database.replace(
        "sqlite:///var/", f"sqlite:///{tmp_path}/")})
    client = bare.test_client()
    answer = client.post("/api", json={"apikey": "k", "affiliate": "a", "data": {"op": "info"}})
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "error",
                                 "message": "the database is unavailable; try again shortly"}
    assert client.get("/healthz").status_code == 503
