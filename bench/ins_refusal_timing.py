"""How long ClickBank intake takes to refuse each kind of malformed notification.

Every refusal is answered alike (``400 rejected``); this measures whether the time to answer
tells the kinds apart, above all the padding oracle's two: a ciphertext whose padding is wrong,
and one whose padding is right but whose plaintext is not JSON (the CBC last-byte attack's
answers). Through HTTP (Flask's test client), interleaved round by round so that load on the
machine falls on every kind alike; failure limits set high so nothing is throttled.

Usage::

    python bench/ins_refusal_timing.py --url sqlite:///var/bench-ins.db --rounds 2000
    python bench/ins_refusal_timing.py --url postgresql://postgres@127.0.0.1:5432/affsrv_bench

Prints, per kind, the median and the 10th/90th percentiles in microseconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from affsrv import create_app
from affsrv.clickbank.crypto import derive_key, encrypt_payload
from affsrv.clickbank.services import add_account, find_account
from affsrv.extensions import db

SECRET = "BENCHSECRETKEY01"
ACCOUNT = "benchvendor"


def _pad_ok(iv: bytes, block: bytes) -> bool:
    decryptor = Cipher(algorithms.AES(derive_key(SECRET)), modes.CBC(iv)).decryptor()
    plain = decryptor.update(block) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        return False
    return True


def _variants() -> dict[str, tuple[str, Any]]:
    document = {"receipt": "BENCH1", "transactionType": "SALE", "vendor": ACCOUNT,
                "lineItems": [{"itemNo": "X", "productPrice": 10}], "version": 6.0,
                "filler": "x" * 600}
    real = encrypt_payload(json.dumps(document), SECRET)
    raw = base64.b64decode(real["notification"])
    previous, block = raw[:16], raw[16:32]
    good = bad = None
    for guess in range(256):
        iv = previous[:15] + bytes([guess])
        if _pad_ok(iv, block):
            good = good or iv
        else:
            bad = bad or iv
    assert good and bad

    def envelope(iv: bytes, data: bytes) -> dict[str, str]:
        return {"iv": base64.b64encode(iv).decode(),
                "notification": base64.b64encode(data).decode()}

    return {
        "bad padding": (ACCOUNT, envelope(bad, block)),
        "good padding, not JSON": (ACCOUNT, envelope(good, block)),
        "good padding, JSON of the wrong shape": (
            ACCOUNT, encrypt_payload('{"receipt": null}', SECRET)),
        "whole notification, wrong key": (
            ACCOUNT, encrypt_payload(json.dumps(document), "WRONGKEY")),
        "unknown account": ("nosuchvendor", real),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:///var/bench-ins.db")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    logs = tempfile.mkdtemp(prefix="affsrv-bench-logs-")
    app = create_app(overrides={
        "database": {"url": args.url}, "logs": {"dir": logs, "commission": False},
        "limits": {"ins_failures_per_address": "1000000 per minute",
                   "ins_failures_per_account": "1000000 per minute"},
    })
    with app.app_context():
        db.create_all()
        if find_account(ACCOUNT) is None:
            add_account(ACCOUNT, SECRET)
    client = app.test_client()
    variants = _variants()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (account, body) in variants.items():
            started = time.perf_counter()
            response = client.post(f"/ins/clickbank/{account}", json=body)
            times[name].append(time.perf_counter() - started)
            assert (response.status_code, response.data) == (400, b"rejected\n"), name
    print(f"{args.rounds} rounds, {args.url.split(':')[0]}; microseconds per refusal")
    print(f"{'kind':40} {'p10':>8} {'median':>8} {'p90':>8}")
    for name, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        print(f"{name:40} {deciles[0] * 1e6:8.0f} {statistics.median(values) * 1e6:8.0f} "
              f"{deciles[-1] * 1e6:8.0f}")


if __name__ == "__main__":
    main()
