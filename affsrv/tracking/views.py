"""The landing link: ``GET /r/<code>[?p=<product id>]``."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request
from werkzeug.wrappers import Response

from affsrv.settings import settings
from affsrv.tracking.services import init_click_buffer, normalise_ip, resolve_landing

bp = Blueprint("tracking", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    init_click_buffer(app)


# A link without a code still lands the visitor on the shop (the default URL), as an unknown
# code does: a broken affiliate link must not lose the visit to a 404 page.
@bp.get("/r/", defaults={"code": ""})
@bp.get("/r/<path:code>")
def landing(code: str) -> Response:
    landing = resolve_landing(
        code,
        request.args.get("p"),
        link=request.headers.get("Referer", ""),
        ip=normalise_ip(request.remote_addr),
        user_agent=request.headers.get("User-Agent", ""),
        # Link checkers and previews ask with HEAD: the same answer, but not a visit.
        count=request.method != "HEAD",
    )
    response = redirect(landing.url, code=302)
    if landing.cookie_code is not None:
        tracking = settings("tracking")
        # Set by the server, not by script: browsers cap script-set cookies at 7 days.
        response.set_cookie(
            tracking["cookie_name"],
            landing.cookie_code,
            max_age=tracking["cookie_days"] * 86400,
            domain=tracking["cookie_domain"] or None,
            path="/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response
