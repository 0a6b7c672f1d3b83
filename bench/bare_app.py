"""The benchmark's baseline: a bare Flask app doing the least the two measured paths must do.

``GET /r/<code>?p=<id>`` answers the same 302 and Set-Cookie as affsrv's landing link (no
database, no click); ``POST /api`` parses the JSON body and answers it back (a JSON echo) inside
``{"status": "ok", ...}``. It runs under gunicorn with exactly the options ``affsrv serve`` uses
(``affsrv.cli.serve.gunicorn_options``), so the ratio compares the apps, not the servers.

    python bench/bare_app.py --bind 127.0.0.1:8001 --workers 2

With ``--database-url`` it also answers ``POST /floor/<name>``: the echo plus one part of a Data
API call (``bench/floor.py``), and the required floor's ladder under ``/ladder/`` (the same
file), for ``bench/run.py --floor``.
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, jsonify, redirect, request

COOKIE_NAME = "maff"
COOKIE_DAYS = 60
LANDING = "https://shop.example/"


def create_bare_app(database_url: str | None = None) -> Flask:
    app = Flask(__name__)

    @app.get("/r/<path:code>")
    def landing(code: str) -> Any:
        product = request.args.get("p", "")
        target = f"{LANDING}p/{product}" if product.isdigit() else LANDING
        return redirect_with_cookie(f"{target}?{COOKIE_NAME}={code}", code)

    @app.post("/api")
    def echo() -> Any:
        return jsonify({"status": "ok", "data": request.get_json()})

    if database_url:
        from floor import add_floor_routes, create_ladder_app

        add_floor_routes(app, database_url)
        # /ladder/...: the required floor's steps, on an app of their own (it carries the
        # affsrv extensions they need, whose hooks must not weigh on the echo and redirect).
        app.extensions["ladder_app"] = ladder_app = create_ladder_app(database_url)
        ladder, own = ladder_app.wsgi_app, app.wsgi_app

        def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("PATH_INFO", "").startswith("/ladder/"):
                return ladder(environ, start_response)
            return own(environ, start_response)

        app.wsgi_app = dispatch  # type: ignore[method-assign]
    return app


def redirect_with_cookie(url: str, code: str) -> Any:
    """The bare landing's answer: a 302 to ``url`` setting the affiliate's cookie."""
    response = redirect(url, code=302)
    response.set_cookie(COOKIE_NAME, code, max_age=COOKIE_DAYS * 86400, path="/",
                        secure=request.is_secure, httponly=True, samesite="Lax")
    return response


def main() -> None:
    from affsrv.cli.serve import GunicornApp, gunicorn_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:8001")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None,
                        help="the benchmark's database: also serve POST /floor/<name>")
    args = parser.parse_args()
    GunicornApp(gunicorn_options(args.bind, args.workers),
                lambda: create_bare_app(args.database_url)).run()


if __name__ == "__main__":
    main()
