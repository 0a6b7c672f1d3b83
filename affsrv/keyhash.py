"""Hashing of API keys (JSON API and REST clerk keys).

Keys are long random strings, so a plain SHA-256 is enough (no password KDF needed); only the
hash is stored and comparisons use ``hmac.compare_digest``.
"""

import hashlib


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
