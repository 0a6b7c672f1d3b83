"""Password hashing for people who sign in (merchant users, affiliates): argon2id by
argon2-cffi. Hashes of an older kind (Werkzeug's, which affiliates' passwords were stored with
before) still verify, and are replaced by argon2id at the next successful sign-in."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

_hasher = PasswordHasher()  # argon2id with argon2-cffi's recommended costs
# Verified when nobody has the e-mail given, so an unknown address costs as long as a wrong
# password and the two cannot be told apart by timing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; with nothing stored, False after the same
    work."""
    if not stored:
        _verify_argon2(_DUMMY_HASH, password)
        return False
    if stored.startswith("$argon2"):
        return _verify_argon2(stored, password)
    return check_password_hash(stored, password)


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2") or _hasher.check_needs_rehash(stored)


def _verify_argon2(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return False
