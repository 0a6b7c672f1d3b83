"""Committing with a clear refusal when a unique constraint says the record exists."""

from sqlalchemy.exc import IntegrityError

from affsrv.errors import Conflict
from affsrv.extensions import db


def commit_or_conflict(message: str) -> None:
    """Commit the session; on a unique-constraint clash roll back and raise ``Conflict``."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message) from None
