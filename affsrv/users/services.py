"""Merchant users: adding them, their passwords and one-time sign-in links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from affsrv.db.session import commit_or_conflict
from affsrv.db.types import utcnow
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.passwords import hash_password, needs_rehash, verify_password
from affsrv.settings import settings
from affsrv.users.models import MerchantUser, Role

PASSWORD_MIN = 10
PASSWORD_MAX = 200

_email_field = fields.Email(validate=validate.Length(max=254))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        _email_field.deserialize(email)
    except ValidationError:
        raise DomainError("email: not a valid e-mail address") from None
    return email


def check_password_rules(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise DomainError(
            f"password: {PASSWORD_MIN} to {PASSWORD_MAX} characters, please"
        )


def add_user(email: str, role: str = Role.OWNER, password: str | None = None) -> MerchantUser:
    """Add a merchant user, with ``password`` or none yet (then sign in by a link)."""
    if role not in {r.value for r in Role}:
        raise DomainError(f"role: owner or staff, not {role!r}")
    user = MerchantUser(email=normalise_email(email), role=role)
    if password is not None:
        check_password_rules(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    commit_or_conflict(f"a merchant user with e-mail {user.email!r} already exists")
    return user


def get_user(user_id: int) -> MerchantUser:
    user = db.session.get(MerchantUser, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(f"no merchant user with id {user_id}")
    return user


def get_user_by_email(email: str) -> MerchantUser:
    user = db.session.scalar(
        select(MerchantUser).where(MerchantUser.email == (email or "").strip().lower())
    )
    if user is None:
        raise NotFound(f"no merchant user with e-mail {email!r}")
    return user


def list_users() -> list[MerchantUser]:
    return list(db.session.scalars(select(MerchantUser).order_by(MerchantUser.id)))


def issue_signin_token(user: MerchantUser) -> str:
    """A new one-time sign-in token for ``user`` (an earlier one stops working); only its hash
    is stored."""
    token = secrets.token_urlsafe(32)
    user.signin_token_hash = _token_hash(token)
    user.signin_token_expires_at = utcnow() + timedelta(hours=settings("web")["signin_link_hours"])
    db.session.commit()
    return token


def redeem_signin_token(token: str) -> MerchantUser | None:
    """The user whose unexpired token this is, which is then used up; else None."""
    if not token or len(token) > 200:
        return None
    user = db.session.scalar(
        select(MerchantUser).where(MerchantUser.signin_token_hash == _token_hash(token))
        .with_for_update()
    )
    if user is None:
        return None
    expired = user.signin_token_expires_at is None or user.signin_token_expires_at <= utcnow()
    user.signin_token_hash = None
    user.signin_token_expires_at = None
    if not expired:
        user.last_signin_at = utcnow()
    db.session.commit()
    return None if expired else user


def authenticate(email: str, password: str) -> MerchantUser | None:
    """The user with this e-mail and password, or None (the same for an unknown e-mail and a
    wrong password, in about the same time)."""
    user = db.session.scalar(
        select(MerchantUser).where(MerchantUser.email == (email or "").strip().lower())
    )
    matches = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not user.password_hash or not matches:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signin_at = utcnow()
    db.session.commit()
    return user


def set_password(user: MerchantUser, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    db.session.commit()


def change_password(user: MerchantUser, current: str | None, new: str) -> None:
    """Set a new password; the current one must be given when the user has one."""
    if user.password_hash and not verify_password(user.password_hash, current or ""):
        raise DomainError("current password: that is not your password")
    set_password(user, new)


def set_timezone(user: MerchantUser, zone: str) -> None:
    """Show this user times in ``zone`` ("" for [server] timezone)."""
    zone = (zone or "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(f"time zone: unknown zone {zone!r}") from None
    user.timezone = zone
    db.session.commit()


def session_fingerprint(user: MerchantUser) -> str:
    """Changes when the password does: sessions signed in before a change stop working."""
    return hashlib.sha256((user.password_hash or "-").encode()).hexdigest()[:16]
