"""ClickBank's Instant Notification cryptography, both ways, and the legacy ``cverify``.

Versions 6.0 and later: ``{"notification": base64(AES-256-CBC(json)), "iv": base64(iv)}``; the
key is the first 32 characters of the lowercase hex SHA-1 of the secret key, used as 32 ASCII
bytes; PKCS#7 padding. Versions up to 4.0 post form fields with a ``cverify`` proof.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import simplejson
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# A secret key as ClickBank's accounts have them (16 characters there; up to 64 here): the
# accounts affsrv receives from and the subscriptions it sends to use the same cipher.
SECRET_KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{1,64}\Z")


class InsCryptoError(Exception):
    """The body cannot be decrypted or verified; the message is one line naming why."""


def derive_key(secret_key: str) -> bytes:
    """The AES key ClickBank derives from an account's secret key."""
    return hashlib.sha1(secret_key.encode("utf-8")).hexdigest()[:32].encode("ascii")


def _b64(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InsCryptoError(f"{name} is missing or not a string")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InsCryptoError(f"{name} is not valid base64") from None


def _decrypt(envelope: Any, secret_key: str) -> tuple[str, str | None]:
    """The plaintext of a 6.0+ notification body already parsed as JSON, and the reason it is
    unusable (None when it is not). Faults of the envelope's shape, which depend only on what
    the sender wrote, raise at once. Past decryption the same work is done whatever the
    plaintext: the padding is checked in constant time (``cryptography``'s unpadder) and the
    text decoded even when the padding is wrong, so no answer time tells the steps apart."""
    if not isinstance(envelope, Mapping):
        raise InsCryptoError("body must be a JSON object with notification and iv")
    ciphertext = _b64(envelope.get("notification"), "notification")
    iv = _b64(envelope.get("iv"), "iv")
    if len(iv) != 16:
        raise InsCryptoError(f"iv must decode to 16 bytes, got {len(iv)}")
    if not ciphertext or len(ciphertext) % 16:
        raise InsCryptoError("notification is truncated (not a whole number of AES blocks)")
    decryptor = Cipher(algorithms.AES(derive_key(secret_key)), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    problem: str | None = None
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        plain, problem = padded, "cannot decrypt: bad padding (wrong secret key?)"
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        text = plain.decode("utf-8", "replace")
        problem = problem or "cannot decrypt: plaintext is not UTF-8 (wrong secret key?)"
    return text, problem


def decrypt_envelope(envelope: Any, secret_key: str) -> str:
    """The plaintext (UTF-8 text) of a 6.0+ notification body already parsed as JSON."""
    text, problem = _decrypt(envelope, secret_key)
    if problem:
        raise InsCryptoError(problem)
    return text


def open_notification(envelope: Any, secret_key: str) -> tuple[str, Any]:
    """The plaintext of a 6.0+ notification and its JSON document (numbers as ``Decimal``).
    Decrypting, unpadding, decoding and parsing are all done whichever fails (see
    ``_decrypt``); ``InsCryptoError`` then names the first that did, for the log only."""
    text, problem = _decrypt(envelope, secret_key)
    document: Any = None
    try:
        document = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        problem = problem or "decrypted notification is not JSON (wrong secret key?)"
    if problem is None and not isinstance(document, dict):
        problem = "decrypted notification is not a JSON object"
    if problem:
        raise InsCryptoError(problem)
    return text, document


def new_iv() -> bytes:
    """16 IV bytes as ClickBank makes them: printable base64 characters (96 random bits)."""
    return base64.b64encode(secrets.token_bytes(12))


def encrypt_payload(plaintext: str | bytes, secret_key: str, iv: bytes | None = None
                    ) -> dict[str, str]:
    """The body ClickBank would post for ``plaintext`` under ``secret_key``."""
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    iv = iv if iv is not None else new_iv()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(derive_key(secret_key)), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return {
        "notification": base64.b64encode(ciphertext).decode("ascii"),
        "iv": base64.b64encode(iv).decode("ascii"),
    }


def _exact_number(value: Any) -> simplejson.RawJSON:
    if isinstance(value, Decimal) and value.is_finite():
        return simplejson.RawJSON(format(value, "f"))
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serializable")


def dumps_exact(payload: Any) -> str:
    """JSON text with every ``Decimal`` written as a plain number (``9.99``, ``-1.00``).

    Each number is put in place by the encoder itself (simplejson's ``RawJSON``), never by
    replacing text afterwards: a string in the payload can never be taken for a number."""
    return simplejson.dumps(payload, ensure_ascii=False, separators=(",", ":"),
                            use_decimal=False, default=_exact_number)


def cverify(fields: Mapping[str, str], secret_key: str) -> str:
    """The legacy (1.0 to 4.0) proof: SHA-1 of the values sorted by field name, each followed
    by ``|``, then the secret key; upper-case hex, first 8 characters."""
    names = sorted(name for name in fields if name != "cverify")
    text = "".join(f"{fields[name]}|" for name in names) + secret_key
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8].upper()


def verify_legacy(fields: Mapping[str, str], secret_key: str) -> None:
    sent = fields.get("cverify")
    if not sent:
        raise InsCryptoError("cverify is missing")
    if not hmac.compare_digest(sent.strip().upper().encode(), cverify(fields, secret_key).encode()):
        raise InsCryptoError("cverify does not match (wrong secret key or altered fields)")
