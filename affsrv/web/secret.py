"""The session secret: ``[web] secret_key``, or one affsrv generates on first use and keeps in
the database, so every worker process and every restart signs with the same key."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from affsrv.extensions import db
from affsrv.web.models import SiteSecret

SESSION_SECRET = "session"


def stored_secret(name: str = SESSION_SECRET) -> str:
    """The secret called ``name``, made now if there is none (a racing worker's wins)."""
    value = db.session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
    if value is not None:
        return value
    db.session.add(SiteSecret(name=name, value=secrets.token_urlsafe(48)))
    try:
        db.session.commit()
    except IntegrityError:  # another worker stored one first: use that
        db.session.rollback()
    return db.session.scalar(select(SiteSecret.value).where(SiteSecret.name == name))
