"""affsrv's JSON answers are encoded by orjson, with the values Flask's own provider gives."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from affsrv.jsonprovider import OrjsonProvider


@dataclasses.dataclass
class _Point:
    x: int
    y: Decimal


def _both(value: object) -> tuple[bytes, bytes]:
    """``value`` answered by jsonify under affsrv's provider and under Flask's own."""
    answers = []
    for provider in (OrjsonProvider, DefaultJSONProvider):
        app = Flask(__name__)
        app.json = provider(app)
        app.json.sort_keys = False
        with app.app_context():
            response = jsonify(value)
        assert response.mimetype == "application/json"
        answers.append(response.get_data())
    return answers[0], answers[1]


def test_same_values_as_flasks_provider():
    value = {
        "money": Decimal("12.30"),
        "when": datetime(2026, 11, 21, 18, 30, tzinfo=UTC),
        "day": date(2026, 11, 21),
        "point": _Point(1, Decimal("2.50")),
        7: "an int key",
        "list": [1, "two", None, True, (3, 4)],
        "text": "Grüße",
    }
    ours, flasks = _both(value)
    assert json.loads(ours) == json.loads(flasks)
    assert json.loads(ours)["money"] == "12.30"  # a string, never a float
    assert json.loads(ours)["when"] == "Sat, 21 Nov 2026 18:30:00 GMT"
    assert list(json.loads(ours)) == list(json.loads(flasks))  # key order kept


def test_answers_are_compact_utf8_encoded_by_orjson():
    ours, flasks = _both({"text": "Grüße", "n": 1})
    assert ours == '{"text":"Grüße","n":1}\n'.encode()
    assert flasks == b'{"text":"Gr\\u00fc\\u00dfe","n":1}\n'  # what the stdlib would send


def test_what_orjson_refuses_falls_back_to_the_standard_library():
    huge = 2**70  # beyond orjson's 64-bit integers
    ours, flasks = _both({"n": huge})
    assert ours == flasks
    assert json.loads(ours) == {"n": huge}
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    assert app.json.dumps({"n": huge}) == json.dumps({"n": huge})
    assert app.json.dumps({"a": "é"}) == '{"a":"é"}'


def test_indented_in_debug_and_sorted_when_asked():
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.debug = True
    with app.app_context():
        assert jsonify({"b": 1, "a": 2}).get_data() == b'{\n  "a": 2,\n  "b": 1\n}\n'


def test_the_api_answers_through_orjson(client, api_key):
    # affsrv's own app uses the provider: an error naming a non-ASCII affiliate code comes
    # back as UTF-8 text, not as \u escapes.
    response = client.post(
        "/api", json={"apikey": api_key, "affiliate": "Jürgen", "data": {"op": "payments"}}
    )
    assert response.status_code == 404
    assert response.get_json() == {"status": "error", "message": "unknown affiliate code 'Jürgen'"}
    assert "Jürgen".encode() in response.get_data()
