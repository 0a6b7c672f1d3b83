"""The padding-oracle attack on ClickBank intake, run through HTTP: it learns nothing, and it
is slowed.

v6+ notifications are AES-CBC without integrity. The classic attack takes one ciphertext block
C of a real notification, sends it with a chosen IV whose last byte runs through all 256 values,
and looks for the one answer that differs: that IV gives a valid padding byte 0x01, which tells
the last plaintext byte of C (``iv[15] ^ 0x01 ^ real_iv[15]``). Repeated byte by byte, block by
block, it decrypts, and then encrypts, any notification. Here every variant must get a
byte-identical answer, and past the failure limit the attacker gets 429s.
"""

from __future__ import annotations

import base64
from collections import Counter

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from affsrv.clickbank.crypto import derive_key
from tests.clickbank.support import ACCOUNT, SECRET, add_cb_account, encrypt, notification
from tests.helpers import log_records
from tests.limits_support import redis_keys

ATTACKER = "203.0.113.66"


def _blocks(body: dict[str, str]) -> tuple[bytes, list[bytes]]:
    raw = base64.b64decode(body["notification"])
    return base64.b64decode(body["iv"]), [raw[i:i + 16] for i in range(0, len(raw), 16)]


def _variant(iv: bytes, block: bytes) -> dict[str, str]:
    return {"iv": base64.b64encode(iv).decode(), "notification": base64.b64encode(block).decode()}


def _answer(response) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    return response.status_code, response.data, tuple(sorted(response.headers.items()))


def _padding_is_valid(iv: bytes, block: bytes) -> bool:
    """What the oracle would have said (the test knows the secret key)."""
    decryptor = Cipher(algorithms.AES(derive_key(SECRET)), modes.CBC(iv)).decryptor()
    plain = decryptor.update(block) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        return False
    return True


def _last_byte_attack(client, real: dict[str, str]) -> list[tuple[int, tuple]]:
    """One step of the attack: the second block of the real notification, behind 256 IVs."""
    iv, blocks = _blocks(real)
    previous, target = blocks[0], blocks[1]
    answers = []
    for guess in range(256):
        forged_iv = previous[:15] + bytes([guess])
        response = client.post(f"/ins/clickbank/{ACCOUNT}", json=_variant(forged_iv, target),
                               environ_base={"REMOTE_ADDR": ATTACKER})
        answers.append((guess, _answer(response)))
    return answers


def test_every_malformed_variant_gets_a_byte_identical_answer(make_app, limit_storage):
    limits = {**limit_storage, "ins_failures_per_address": "1000 per minute",
              "ins_failures_per_account": "1000 per minute"}
    app = make_app(limits=limits)
    add_cb_account(app)
    client = app.test_client()
    real = encrypt(notification())

    answers = _last_byte_attack(client, real)

    # The oracle's truth: some guesses do make a valid padding (the original byte at least,
    # which leaves the real second-block plaintext ending in its real bytes; 0x01 for one).
    _, blocks = _blocks(real)
    valid = [g for g, _ in answers if _padding_is_valid(blocks[0][:15] + bytes([g]), blocks[1])]
    assert valid, "the attack's block has no valid-padding guess: the test would prove nothing"
    # ... and yet all 256 answers are one and the same, byte for byte, headers included.
    distinct = Counter(answer for _, answer in answers)
    assert len(distinct) == 1, distinct
    [(status, body, _headers)] = distinct
    assert (status, body) == (400, b"rejected\n")
    # The attacker's decision (the guess whose answer stands out) has nothing to pick from.
    odd_ones = [g for g, a in answers if distinct[a] < len(answers)]
    assert odd_ones == []

    # Other malformed variants: truncated, not base64, wrong IV length, not JSON at all,
    # decrypted but not JSON, decrypted JSON of the wrong shape, another account's key, an
    # unknown account: the same answer again.
    iv, blocks = _blocks(real)
    others = [
        _variant(iv, b"".join(blocks)[:-5]),
        {"iv": real["iv"], "notification": "%%%not base64%%%"},
        _variant(b"short", b"".join(blocks)),
        "{not json",
        encrypt("this is not json"),
        encrypt('["a list"]'),
        encrypt(notification(receipt=None)),
        encrypt(notification(), secret="WRONGKEY99"),
    ]
    for body in others:
        kwargs = {"data": body, "content_type": "application/json"} if isinstance(
            body, str) else {"json": body}
        response = client.post(f"/ins/clickbank/{ACCOUNT}",
                               environ_base={"REMOTE_ADDR": ATTACKER}, **kwargs)
        assert _answer(response) == next(iter(distinct)), body
    unknown = client.post("/ins/clickbank/nosuchaccount", json=real,
                          environ_base={"REMOTE_ADDR": ATTACKER})
    assert _answer(unknown) == next(iter(distinct))

    # The reasons are in commission.log, for the merchant.
    reasons = {r["reason"] for r in log_records(app, "commission") if "reason" in r}
    assert any("bad padding" in r for r in reasons)
    assert any("unknown account" in r for r in reasons)

    # The real notification is still stored.
    response = client.post(f"/ins/clickbank/{ACCOUNT}", json=real)
    assert (response.status_code, response.data) == (200, b"stored\n")


def test_the_attack_is_slowed_to_the_failure_limit(make_app, limit_storage):
    limits = {**limit_storage, "ins_failures_per_address": "10 per minute",
              "ins_failures_per_account": "30 per minute"}
    app = make_app(limits=limits)
    add_cb_account(app)
    client = app.test_client()
    real = encrypt(notification())
    _, blocks = _blocks(real)

    statuses = []
    for guess in range(40):
        response = client.post(f"/ins/clickbank/{ACCOUNT}",
                               json=_variant(blocks[0][:15] + bytes([guess]), blocks[1]),
                               environ_base={"REMOTE_ADDR": ATTACKER})
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry = int(response.headers["Retry-After"])
            assert 1 <= retry <= 60
            assert response.mimetype == "text/plain"
    assert statuses == [400] * 10 + [429] * 30
    if limit_storage["storage_url"]:  # the counters are in Redis, shared by every worker
        assert redis_keys(limit_storage["key_prefix"])

    # Slowed, not answered: even the real notification waits from that address ...
    response = client.post(f"/ins/clickbank/{ACCOUNT}", json=real,
                           environ_base={"REMOTE_ADDR": ATTACKER})
    assert response.status_code == 429
    # ... while ClickBank, from its own address, is not held up.
    response = client.post(f"/ins/clickbank/{ACCOUNT}", json=real,
                           environ_base={"REMOTE_ADDR": "198.51.100.10"})
    assert (response.status_code, response.data) == (200, b"stored\n")

    # 10 refusals logged with their reasons, and one line when throttling began (not 30).
    records = log_records(app, "commission")
    assert sum(r["event"] == "ins notification refused" for r in records) == 10
    assert sum(r["event"] == "throttling failed attempts" for r in records) == 1


def test_failures_are_throttled_per_account_across_addresses(make_app, limit_storage):
    limits = {**limit_storage, "ins_failures_per_address": "5 per minute",
              "ins_failures_per_account": "8 per minute"}
    app = make_app(limits=limits)
    add_cb_account(app)
    client = app.test_client()
    bad = encrypt(notification(), secret="WRONGKEY99")
    statuses = [
        client.post(f"/ins/clickbank/{ACCOUNT}", json=bad,
                    environ_base={"REMOTE_ADDR": f"203.0.113.{n % 4 + 1}"}).status_code
        for n in range(12)
    ]
    assert statuses == [400] * 8 + [429] * 4
    # Another account is not affected.
    add_cb_account(app, "othervendor")
    response = client.post("/ins/clickbank/othervendor",
                           json=encrypt(notification(vendor="othervendor")),
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 200


def test_successes_never_count(make_app, limit_storage):
    """ClickBank's own traffic (stored and duplicate notifications) is never throttled."""
    limits = {**limit_storage, "ins_failures_per_address": "3 per minute",
              "ins_failures_per_account": "3 per minute"}
    app = make_app(limits=limits)
    add_cb_account(app)
    client = app.test_client()
    answers = [client.post(f"/ins/clickbank/{ACCOUNT}",
                           json=encrypt(notification(receipt=f"R{n % 5}"))).data
               for n in range(20)]
    assert answers == [b"stored\n"] * 5 + [b"duplicate: already stored\n"] * 15
