"""Seeded random bodies, mutated from valid calls: every answer is a 200 or a 4xx in the API's
error format, never a 500, and a NUL or an unpaired surrogate anywhere in the text is refused.
Bounded by count, so the run is the same every time."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from tests.helpers import add_affiliate, add_product

ATOMS: list[Any] = [
    None, True, False, 0, -1, 1, 2**70, 1.5, "", " ", "x", "0", "1", "9.99", "$9.99", "1,245.76",
    "-5", "1e3", "\u00e9", "\x00", "a\x00b", "\u00b2", "\ud800", "a\udc00b", "\U0001f600",
    "a" * 3000, "USD", "refund", "chargeback", "sale",
    "yes", "no", "::1", "1.2.3.4", "999.1.1.1", "info", "commissions", "payments", "referrals",
    [], {}, [1], {"a": 1},
]
KEYS = ["affiliate", "data", "op", "product", "referrer", "url", "ip", "commission",
        "saletotal", "commtotal", "notes", "ref", "type", "currency", "emails", "custom", "admin"]
REQUESTS = 400


def _value(rnd: random.Random, depth: int = 0) -> Any:
    if depth < 2 and rnd.random() < 0.2:
        if rnd.random() < 0.7:
            return {rnd.choice(KEYS): _value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))}
        return [_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return rnd.choice(ATOMS)


def _valid_call(rnd: random.Random, codes: list[str], pid: int) -> dict[str, Any]:
    code = rnd.choice(codes)
    kind = rnd.choice(["data", "referrer", "commission"])
    if kind == "data":
        return {"affiliate": code, "data": {"op": rnd.choice(["info", "commissions",
                                                              "payments", "referrals"])}}
    if kind == "referrer":
        return {"affiliate": code, "referrer": {"url": "https://blog.example/", "product": pid}}
    return {"affiliate": code, "commission": {
        "product": pid, "saletotal": "10.00", "commtotal": "1.00", "ref": f"o{rnd.randint(1, 9)}",
        "type": rnd.choice(["sale", "sale", "refund", "chargeback"])}}


def _mutate(rnd: random.Random, value: Any) -> None:
    if isinstance(value, dict) and value:
        key = rnd.choice(list(value))
        roll = rnd.random()
        if roll < 0.35:
            value[key] = _value(rnd)
        elif roll < 0.5:
            del value[key]
        elif roll < 0.7:
            value[rnd.choice(KEYS)] = _value(rnd)
        else:
            _mutate(rnd, value[key])


def _holds(value: Any, chars: str) -> bool:
    """Whether a string in ``value`` (keys included) holds any of ``chars``."""
    if isinstance(value, str):
        return any(c in value for c in chars)
    if isinstance(value, dict):
        return any(_holds(k, chars) or _holds(v, chars) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds(v, chars) for v in value)
    return False


def test_random_bodies_get_a_clean_answer(make_app, api_key):
    app = make_app(commissions={"require_approval": False})
    codes = [add_affiliate(app), add_affiliate(app, commtier=Decimal("12.5"))]
    pid = add_product(app)
    client = app.test_client()
    rnd = random.Random(20261121)
    seen: dict[int, int] = {}
    refused_nul = refused_surrogate = 0
    for _ in range(REQUESTS):
        body = _valid_call(rnd, codes, pid)
        for _ in range(rnd.randint(0, 3)):
            _mutate(rnd, body)
        body = {"apikey": api_key, **body}
        r = client.post(rnd.choice(["/api", "/index.php"]), data=json.dumps(body),
                        content_type="application/json")
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        answer = r.get_json()
        assert r.status_code == 200 or 400 <= r.status_code < 500, (body, r.data)
        if r.status_code == 200:
            assert answer["status"] == "ok", (body, answer)
        else:
            assert set(answer) == {"status", "message"} and answer["status"] == "error"
        if _holds(body, "\x00"):
            assert r.status_code == 400 and "NUL" in answer["message"], (body, answer)
            refused_nul += 1
        elif _holds(body, "\ud800\udc00"):
            assert r.status_code == 400 and "valid Unicode" in answer["message"], (body, answer)
            refused_surrogate += 1
    # The walk reached every kind of answer, and NUL and surrogates in text more than once.
    assert seen.get(200, 0) > 50 and seen.get(400, 0) > 50, seen
    assert refused_nul > 5 and refused_surrogate > 5, (refused_nul, refused_surrogate)
