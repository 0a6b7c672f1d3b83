"""``POST /ins/clickbank/<account>``: ClickBank's Instant Notifications in.

200 once stored (or already stored); 400 with a one-line reason; a database failure is
answered 503 by the app's handler so that ClickBank retries. No outbound call on this path.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from sqlalchemy.exc import DBAPIError, OperationalError

from affsrv.clickbank.services import InsRejected, receive_notification
from affsrv.error_formats import register_error_format, text_answer
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.request_body import read_body

bp = Blueprint("clickbank", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The app's own errors here (a 413, the database down) in plain text like every answer.
    register_error_format(app, ("/ins/clickbank",), text_answer)


@bp.post("/ins/clickbank/<account>")
def receive(account: str) -> Response:
    body = read_body()  # over [server] max_body_bytes: 413
    try:
        outcome = receive_notification(account, body, request.content_type or "")
    except InsRejected as exc:
        get_log("commission").warning(
            "ins notification refused", account=account[:64], reason=exc.message,
            remote=request.remote_addr, length=len(body),
        )
        return text_answer(400, f"rejected: {exc.message}")
    except OperationalError:
        raise  # the app's handler answers 503: the database is down, ClickBank retries
    except DBAPIError as exc:
        # Not a refusal of the notification: 503 so that ClickBank sends it again.
        db.session.rollback()
        get_log("general").error("ins notification not stored", account=account[:64],
                                 error=type(exc.orig).__name__, exc_info=True)
        return text_answer(503, "unavailable: the notification could not be stored; retry")
    return text_answer(200, "duplicate: already stored" if outcome.duplicate else "stored")
