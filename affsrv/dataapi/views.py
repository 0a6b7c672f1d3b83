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
from affsrv.error_formats import json_error, register_error_format
from affsrv.errors import DomainError, Forbidden
from affsrv.logs import get_log
from affsrv.ratelimits import count_failure, failure_limit, first_failure_in_window
from affsrv.request_body import read_body
from affsrv.settings import settings
from affsrv.text import SURROGATE, any_string
from affsrv.validation import format_errors

bp = Blueprint("dataapi", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_error_format(app, ("/api", "/index.php"), json_error)
    # One schema per call (call_kind tells which), made once per app: the commission call's
    # holds settings, the sale limit and the ledger currency.
    commissions = app.config["AFFSRV"]["commissions"]
    app.extensions["affsrv_call_schemas"] = {
        "data": DataCallSchema(),
        "referrer": ReferrerCallSchema(),
        "commission": CommissionCallSchema(
            max_saletotal=Decimal(commissions["max_saletotal"]), currency=commissions["currency"]
        ),
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


def _refuse_unstorable_text(body: Any, text: str) -> None:
    r"""Refuse a body with a NUL or an unpaired surrogate in any string (see
    ``affsrv.text``) up front, rather than fail on write. Each walk runs only when the
    JSON text could hold one: NUL only as the escape \u0000 (that text may also be an escaped
    backslash and "u0000", which passes), a surrogate only as an escape or as non-ASCII
    text."""
    if "\\u0000" in text and any_string(body, lambda item: "\x00" in item):
        raise DomainError("malformed request: text must not contain NUL (\\u0000) characters")
    if ("\\u" in text or not text.isascii()) and any_string(body, SURROGATE.search):
        raise DomainError(
            "malformed request: text must be valid Unicode (an unpaired surrogate such as "
            "\\ud800 is not)"
        )


def _log_name(body: Any) -> str:
    if isinstance(body, dict):
        if "commission" in body:
            return "commission"
        if "referrer" in body:
            return "referral"
    return "general"


@bp.post("/api")
@bp.post("/index.php")
@failure_limit("api_key_failures_per_address")
def api_call() -> Response | tuple[Response, int]:
    started = time.perf_counter()
    body: Any = None
    key_refused = False
    try:
        body, text = _parse_body()
        if not isinstance(body, dict):
            raise DomainError("malformed request: the body must be a JSON object")
        _refuse_unstorable_text(body, text)
        apikey = body.get("apikey")
        missing = not isinstance(apikey, str) or not apikey
        if missing or not is_valid_api_key(apikey):
            # Throttled per address (``[limits] api_key_failures_per_address``).
            key_refused = True
            count_failure()
            raise Forbidden("missing apikey" if missing else "invalid apikey")
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
        # Wrong keys are summed up: the first of a minute from an address, then the
        # throttle's line (affsrv.ratelimits), not a line for each of a thousand guesses.
        if not key_refused or first_failure_in_window("api-key"):
            get_log(_log_name(body)).warning(
                "api call refused", reason=exc.message, status=status,
                affiliate=_field(body, "affiliate"), remote=request.remote_addr,
                **({"note": "the first wrong key this minute from this address; more are "
                            "counted by the throttle"} if key_refused else {}),
            )
    if settings("logs")["api"]:
        get_log("api").info(
            "api call", status=status, remote=request.remote_addr,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request=body if isinstance(body, dict) else None, response=answer,
        )
    return jsonify(answer), status


def _field(body: Any, name: str) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str | int) else None
