"""``POST /ins/clickbank/<account>``: ClickBank's Instant Notifications in.

200 once stored (or already stored). Every refusal (an unknown account, a body that does not
decrypt, unpad, decode or parse, a wrong cverify, an unusable notification) gets one and the same
answer, ``400 rejected``, with the reason only in commission.log: a reason would be a padding
oracle (the notification is AES-CBC without integrity, so telling "bad padding" from "not JSON"
lets a forger build a notification of his choosing). Refusals are throttled per client address
and per account (``[limits]``): past the limit, 429 with Retry-After. A database failure is
answered 503 by the app's handler so that ClickBank retries. No outbound call on this path.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from sqlalchemy.exc import DBAPIError, OperationalError

from affsrv.clickbank.services import InsRejected, receive_notification
from affsrv.error_formats import register_error_format, text_answer
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.ratelimits import address_key, count_failure, failure_limit
from affsrv.request_body import read_body
from affsrv.settings import settings

bp = Blueprint("clickbank", __name__)

#: The one answer to every refused notification.
REJECTED = "rejected"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The app's own errors here (a 413, the database down) in plain text like every answer.
    register_error_format(app, ("/ins/clickbank",), text_answer)


def _account_key() -> str:
    account = (request.view_args or {}).get("account", "")
    return f"{settings('limits')['key_prefix']}/ins-account/{account.strip().lower()[:64]}"


@bp.post("/ins/clickbank/<account>")
@failure_limit("ins_failures_per_address", address_key)
@failure_limit("ins_failures_per_account", _account_key)
def receive(account: str) -> Response:
    body = read_body()  # over [server] max_body_bytes: 413
    try:
        outcome = receive_notification(account, body, request.content_type or "")
    except InsRejected as exc:
        count_failure()
        get_log("commission").warning(
            "ins notification refused", account=account[:64], reason=exc.message,
            remote=request.remote_addr, length=len(body),
        )
        return text_answer(400, REJECTED)
    except OperationalError:
        raise  # the app's handler answers 503: the database is down, ClickBank retries
    except DBAPIError as exc:
        # Not a refusal of the notification: 503 so that ClickBank sends it again.
        db.session.rollback()
        get_log("general").error("ins notification not stored", account=account[:64],
                                 error=type(exc.orig).__name__, exc_info=True)
        return text_answer(503, "unavailable: the notification could not be stored; retry")
    return text_answer(200, "duplicate: already stored" if outcome.duplicate else "stored")
