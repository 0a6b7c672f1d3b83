"""A command run against a database it cannot use says what the database said and what to
check, with exit status 1, never a traceback."""

import pytest

from tests.serving import clean_env, free_port, run_affsrv


@pytest.mark.parametrize("url, said", [
    # A command before `affsrv db upgrade` (or `affsrv serve`) made the schema.
    ("sqlite:///var/empty.db", "no such table: affiliates"),
    # Nothing listens on the port.
    ("postgresql://postgres@127.0.0.1:{port}/affsrv", "Connection refused"),
])
def test_a_command_without_a_usable_database_says_so(tmp_path, url, said):
    env = clean_env(AFFSRV_DATABASE_URL=url.format(port=free_port()))
    done = run_affsrv(["affiliate", "list"], tmp_path, env)
    assert done.returncode == 1, done
    assert done.stderr.startswith("Error: database: ") and said in done.stderr
    assert "affsrv db upgrade" in done.stderr and "Traceback" not in done.stderr
