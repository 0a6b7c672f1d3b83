"""API keys are stored hashed; a key sent is looked up by its hash among the active ones."""

from sqlalchemy import select

from affsrv.apikeys.models import ApiKey
from affsrv.apikeys.services import (
    create_api_key,
    ensure_api_key,
    is_valid_api_key,
    revoke_api_key,
)
from affsrv.extensions import db
from affsrv.keyhash import hash_key


def test_only_a_hash_is_stored(app):
    with app.app_context():
        record, plain = create_api_key("shop")
        stored = db.session.scalars(select(ApiKey)).one()
        assert plain not in (stored.key_hash, stored.prefix, stored.label)
        assert len(stored.key_hash) == 64 and stored.prefix == plain[7:13]
        assert is_valid_api_key(plain)
        assert not is_valid_api_key(plain + "x")
        assert not is_valid_api_key(plain[:-1])
        assert not is_valid_api_key("")
        assert not is_valid_api_key("x" * 10_000)


def test_among_many_keys_each_active_one_works_and_nothing_else(make_app):
    app = make_app(server={"cache_seconds": 60})
    with app.app_context():
        made = [create_api_key(f"shop {n}") for n in range(30)]
        for record, _ in made[::3]:
            revoke_api_key(record.id)
        for n, (_, plain) in enumerate(made):
            assert is_valid_api_key(plain) is (n % 3 != 0), n
            assert not is_valid_api_key(hash_key(plain))  # the stored hash is not a key
            assert not is_valid_api_key(plain[:-1] + ("A" if plain[-1] != "A" else "B"))


def test_first_key_only_when_there_is_none(app):
    with app.app_context():
        first = ensure_api_key()
        assert first is not None and is_valid_api_key(first)
        assert ensure_api_key() is None


def test_cached_keys_see_a_new_key_at_once_in_the_same_process(make_app):
    app = make_app(server={"cache_seconds": 60})
    with app.app_context():
        _, one = create_api_key()
        assert is_valid_api_key(one)
        _, two = create_api_key()  # creating clears this process's cache
        assert is_valid_api_key(two)


def test_a_key_revoked_by_another_worker_stops_working_within_cache_seconds(make_app):
    """Each app (a gunicorn worker) keeps the active keys for `cache_seconds`; a key revoked
    through another one is refused once that time has passed, and at once in the app that
    revoked it."""
    import time

    from affsrv.apikeys.services import revoke_api_key

    worker = make_app(server={"cache_seconds": 1})
    other = make_app(server={"cache_seconds": 1})
    with other.app_context():
        record, plain = create_api_key()
        key_id = record.id
    with worker.app_context():
        assert is_valid_api_key(plain)  # read now, kept for a second
    with other.app_context():
        assert is_valid_api_key(plain)
        revoke_api_key(key_id)
        assert not is_valid_api_key(plain)
    with worker.app_context():
        assert is_valid_api_key(plain)  # still within its second
        deadline = time.monotonic() + 5
        while is_valid_api_key(plain) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not is_valid_api_key(plain)
        assert time.monotonic() < deadline - 3.5  # refused after about a second, not five


def test_a_key_created_by_another_process_works_at_once_in_a_worker_that_cached(make_app):
    """`affsrv apikey create` runs in its own process: a worker that read its keys before must
    not refuse the new key for `cache_seconds` (a merchant tries a new key at once)."""
    worker = make_app(server={"cache_seconds": 60})
    cli = make_app(server={"cache_seconds": 60})
    with worker.app_context():
        _, old = create_api_key()
        assert is_valid_api_key(old)  # the worker has read (and keeps) the active keys
    with cli.app_context():
        _, new = create_api_key()
    client = worker.test_client()
    answer = client.post("/api", json={"apikey": new, "affiliate": "nobody",
                                       "data": {"op": "info"}})
    assert answer.status_code == 404  # past the key check: the affiliate is unknown
    with worker.app_context():
        assert is_valid_api_key(new) and is_valid_api_key(old)
        assert not is_valid_api_key(new + "x")
