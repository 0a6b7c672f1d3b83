"""The ``/rest/1.3`` blueprint; its routes live in ``views_products``, ``views_shipping``
and ``views_orders``."""

from __future__ import annotations

import time
from importlib.resources import files

from flask import Blueprint, Flask, Response, g, request

from affsrv.error_formats import register_error_format, text_answer
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.ratelimits import address_key, failure_limit
from affsrv.restapi.auth import sent_clerk_key
from affsrv.restapi.errors import RestError
from affsrv.restapi.formats import XML, negotiate
from affsrv.restapi.schemas.common import NO_PARAMETERS, load_query
from affsrv.settings import settings

bp = Blueprint("restapi", __name__, url_prefix="/rest/1.3")
# Wrong keys (counted by restapi.auth) are throttled per address and per clerk key sent.
failure_limit("rest_key_failures_per_address", address_key)(bp)
failure_limit("rest_key_failures_per_key", sent_clerk_key)(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Errors the app answers itself (an unknown path or method, the database down): plain text
    # too, as ClickBank's clients read every refusal.
    register_error_format(app, (bp.url_prefix or "",), text_answer)


@bp.before_request
def _start_clock() -> None:
    g.rest_started = time.perf_counter()


@bp.after_request
def _log_call(response: Response) -> Response:
    """With ``[logs] api`` on, every call goes to api.log (never the Authorization header)."""
    if settings("logs")["api"]:
        started = g.get("rest_started", time.perf_counter())
        get_log("api").info(
            "rest call", method=request.method, path=request.path,
            query=request.query_string.decode("latin-1")[:2000], page=request.headers.get("Page"),
            status=response.status_code, remote=request.remote_addr,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
    return response


@bp.before_request
def _refuse_nul() -> None:
    """No database takes a NUL character in text (PostgreSQL refuses it): a 400, not a 500."""
    values = [*request.args.keys(), *request.args.values(), *(request.view_args or {}).values()]
    if any("\x00" in str(v) for v in values):
        raise RestError(400, "parameters must not contain NUL characters")


@bp.errorhandler(RestError)
def _rest_error(exc: RestError) -> Response:
    db.session.rollback()
    return text_answer(exc.status, exc.message)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    db.session.rollback()
    return text_answer(exc.status, exc.message)


def xsd_response(name: str) -> Response:
    """A seed's XML schema (``/schema`` endpoints: no key, no parameters, XML only)."""
    negotiate((XML,))
    load_query(NO_PARAMETERS, request.args)
    body = files("affsrv.restapi").joinpath("xsd", name).read_bytes()
    return Response(body, mimetype=XML)


# The route modules add their routes to ``bp``.
from affsrv.restapi import views_orders, views_products, views_shipping  # noqa: E402, F401
