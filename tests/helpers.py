"""Small builders shared by the tests."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from affsrv.affiliates.services import create_affiliate
from affsrv.extensions import db
from affsrv.products.services import create_product

_serial = itertools.count(1)


def add_affiliate(app: Flask, **fields: Any) -> str:
    """Create an affiliate and return its code."""
    n = next(_serial)
    values: dict[str, Any] = {"email": f"aff{n}@example.com", "fname": "Ann", "lname": "Lee"}
    values.update(fields)
    with app.app_context():
        return create_affiliate(**values).code


def add_product(app: Flask, name: str = "Widget", url: str = "https://shop.example/widget",
                **fields: Any) -> int:
    with app.app_context():
        return create_product(name=name, url=url, **fields).id


def api(client: FlaskClient, key: str, affiliate: str, path: str = "/api", **call: Any) -> Any:
    """POST one JSON API call and return the response."""
    return client.post(path, json={"apikey": key, "affiliate": affiliate, **call})


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def log_records(app: Flask, name: str) -> list[dict[str, Any]]:
    """The JSON lines ``app`` wrote to ``<logs dir>/<name>.log``, oldest first ([] if none)."""
    path = Path(app.config["AFFSRV"]["logs"]["dir"]) / f"{name}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
