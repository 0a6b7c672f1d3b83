"""The landing link: ``GET /r/<code>[?p=<product id>]``."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from affsrv.settings import settings
from affsrv.tracking.services import init_click_buffer, normalise_ip, resolve_landing

bp = Blueprint("tracking", __name__)


class LandingCodeConverter(BaseConverter):
    """Whatever follows ``/r/``: empty, with slashes (``/r//x``), line breaks (``/r/bob%0a``)
    or NUL. Werkzeug's ``path`` refuses a leading slash and a line break, and a path it refuses
    is a 404 page, or, for doubled slashes, a 308 redirect built from the request's ``Host``
    header; every such path is an unknown code here, landing on the default URL."""

    part_isolating = False
    regex = "[\\s\\S]*"  # anything, line breaks included
    weight = 300  # after every more specific rule


def init_app(app: Flask) -> None:
    # Before the blueprint's rules are bound to the URL map, which looks converters up.
    app.url_map.converters["landing_code"] = LandingCodeConverter
    app.register_blueprint(bp)
    init_click_buffer(app)


# A link without a code, or with anything that is not a code, still lands the visitor on the
# shop (the default URL), as an unknown code does: a broken affiliate link must not lose the
# visit to a 404 page. Nor may it redirect anywhere but to a configured URL: no slash merging
# or trailing-slash redirect (Werkzeug builds those from the Host header), and no ``defaults``
# on a rule (Werkzeug would redirect /r/ to the rule that has them).
@bp.get("/r", strict_slashes=False, merge_slashes=False)
@bp.get("/r/<landing_code:code>", strict_slashes=False, merge_slashes=False)
def landing(code: str = "") -> Response:
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
