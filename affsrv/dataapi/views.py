"""``POST /api`` and ``POST /index.php``: one endpoint, three calls (data, referrer,
commission), answered ``{"status": "ok", ...}`` or ``{"status": "error", "message": ...}``."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from affsrv.apikeys.services import is_valid_api_key
from affsrv.dataapi import services
from affsrv.dataapi.schemas import (
    CommissionCallSchema,
    DataCallSchema,
    ReferrerCallSchema,
    call_kind,
)
from affsrv.errors import DomainError, Forbidden
from affsrv.logs import get_log, redact
from affsrv.request_body import read_body
from affsrv.settings import settings
from affsrv.validation import format_errors

bp = Blueprint("dataapi", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # One schema per call (call_kind tells which), made once per app: the commission call's
    # holds a setting, the sale limit.
    limit = Decimal(app.config["AFFSRV"]["commissions"]["max_saletotal"])
    app.extensions["affsrv_call_schemas"] = {
        "data": DataCallSchema(),
        "referrer": ReferrerCallSchema(),
        "commission": CommissionCallSchema(max_saletotal=limit),
    }


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


# parse_float=Decimal: amounts never pass through a binary float. Made once: json.loads with
# these options would build a decoder on every request.
_decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _parse_body() -> tuple[Any, str]:
    """The decoded body, and its JSON text."""
    raw = read_body()  # over [server] max_body_bytes: 413
    try:
        # Bytes decoded as json.loads would (UTF-8, or UTF-16/32 by their byte order).
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        return _decoder.decode(text), text
    except (ValueError, RecursionError):
        raise DomainError("malformed JSON: send a JSON object as the request body") from None


def _refuse_nul(body: Any, text: str) -> None:
    # JSON can carry a NUL only as the escape \u0000, so the walk runs only when that text is
    # there (it may also be an escaped backslash followed by "u0000", which is allowed).
    if "\\u0000" in text and _has_nul(body):
        raise DomainError("malformed request: text must not contain NUL (\\u0000) characters")


def _has_nul(value: Any) -> bool:
    """Whether any string in a decoded body (keys included) holds a NUL: no database stores
    one in text (PostgreSQL refuses it), so it is refused up front, not failed on write."""
    waiting = [value]  # a stack, not recursion: the decoder accepts nesting near Python's limit
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False


def _log_name(body: Any) -> str:
    if isinstance(body, dict):
        if "commission" in body:
            return "commission"
        if "referrer" in body:
            return "referral"
    return "general"


@bp.post("/api")
@bp.post("/index.php")
def api_call() -> Response | tuple[Response, int]:
    started = time.perf_counter()
    body: Any = None
    try:
        body, text = _parse_body()
        if not isinstance(body, dict):
            raise DomainError("malformed request: the body must be a JSON object")
        _refuse_nul(body, text)
        apikey = body.get("apikey")
        if not isinstance(apikey, str) or not apikey:
            raise Forbidden("missing apikey")
        if not is_valid_api_key(apikey):
            raise Forbidden("invalid apikey")
        try:
            kind = call_kind(body)
            call = current_app.extensions["affsrv_call_schemas"][kind].load(body)
        except ValidationError as exc:
            raise DomainError(format_errors(exc.messages)) from None
        payload = services.dispatch(kind, call, user_agent=request.headers.get("User-Agent", ""))
        status = 200
        answer = {"status": "ok", **payload}
    except DomainError as exc:
        status = exc.status
        answer = {"status": "error", "message": exc.message}
        get_log(_log_name(body)).warning(
            "api call refused", reason=exc.message, status=status,
            affiliate=_field(body, "affiliate"), remote=request.remote_addr,
        )
    if settings("logs")["api"]:
        get_log("api").info(
            "api call", status=status, remote=request.remote_addr,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request=redact(body) if isinstance(body, dict) else None, response=answer,
        )
    return jsonify(answer), status


def _field(body: Any, name: str) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str | int) else None
