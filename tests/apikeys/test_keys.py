"""API keys are stored hashed and checked against every active key."""

from sqlalchemy import select

from affsrv.apikeys.models import ApiKey
from affsrv.apikeys.services import create_api_key, ensure_api_key, is_valid_api_key
from affsrv.extensions import db


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
