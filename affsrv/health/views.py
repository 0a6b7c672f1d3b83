"""``GET /healthz``: 200 when this worker can serve; 503 when its database cannot answer or
a due notification has waited longer than ``[health] max_due_seconds`` (nothing delivers)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from affsrv.health.schemas import HealthSchema
from affsrv.health.services import check_health

bp = Blueprint("health", __name__)
_schema = HealthSchema()


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    health = check_health()
    return jsonify(_schema.dump(health)), 200 if health.ok else 503
