"""The affiliate area's own records: sign-up (and telling the merchant), password-reset
tokens, the affiliate's time zone. Accounts, passwords and money stay with their domains."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.services import (
    create_affiliate,
    get_affiliate_by_email,
    set_affiliate_password,
)
from affsrv.db.types import utcnow
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.notifications.services import enqueue_email
from affsrv.portal.models import AffiliateLogin
from affsrv.settings import settings

RESET_HOURS = 2


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login_record(affiliate_id: int) -> AffiliateLogin:
    record = db.session.get(AffiliateLogin, affiliate_id)
    if record is None:
        record = AffiliateLogin(affiliate_id=affiliate_id, timezone="")
        db.session.add(record)
    return record


def sign_up(fname: str, lname: str, email: str, password: str, ip: str,
            admin_url: str) -> Affiliate:
    """A new affiliate, held for approval where ``[affiliates] require_approval`` says so;
    the merchant is e-mailed (``[mail] admin``) either way."""
    affiliate = create_affiliate(fname=fname, lname=lname, email=email, password=password,
                                 ip=ip)
    mail = settings("mail")
    if mail["enabled"] and mail["admin"] and mail["admin_emails"]:
        state = "waits for your approval" if not affiliate.approved else "is active"
        enqueue_email(
            mail["admin"], f"New affiliate sign-up: {affiliate.code} ({state})",
            f"An affiliate signed up in the affiliate area.\n\n"
            f"Code: {affiliate.code}\nName: {affiliate.fname} {affiliate.lname}\n"
            f"E-mail: {affiliate.email}\nIP: {affiliate.ip or '-'}\n"
            f"The account {state}.\n\n{admin_url}\n",
            f"e-mail to admin about sign-up {affiliate.code}",
        )
        db.session.commit()
    return affiliate


def send_reset_link(email: str, link_for: Any) -> None:
    """E-mail the affiliate with this address a password-reset link (``link_for(token)``),
    valid ``RESET_HOURS``; nothing (and no sign of it) for an unknown or disabled address."""
    affiliate = get_affiliate_by_email(email)
    if affiliate is None or not affiliate.enabled or not settings("mail")["enabled"]:
        return
    token = secrets.token_urlsafe(32)
    record = login_record(affiliate.id)
    record.reset_token_hash = _token_hash(token)
    record.reset_token_expires_at = utcnow() + timedelta(hours=RESET_HOURS)
    enqueue_email(
        affiliate.email, "Reset your affiliate password",
        f"Hello {affiliate.fname},\n\nSomeone (we hope you) asked to reset the password of your "
        f"affiliate account. This link sets a new one; it works once, for {RESET_HOURS} "
        f"hours:\n\n{link_for(token)}\n\nIf it was not you, ignore this e-mail.\n",
        f"e-mail to affiliate {affiliate.code}: password reset",
    )
    db.session.commit()


def affiliate_for_reset(token: str) -> Affiliate | None:
    """The enabled affiliate whose unexpired reset token this is, or None."""
    if not token or len(token) > 200:
        return None
    record = db.session.scalar(
        select(AffiliateLogin).where(AffiliateLogin.reset_token_hash == _token_hash(token)))
    if record is None or record.reset_token_expires_at is None \
            or record.reset_token_expires_at <= utcnow():
        return None
    affiliate = db.session.get(Affiliate, record.affiliate_id)
    return affiliate if affiliate is not None and affiliate.enabled else None


def reset_password(token: str, password: str) -> Affiliate:
    """Set the password of the token's affiliate; the token is used up."""
    affiliate = affiliate_for_reset(token)
    if affiliate is None:
        raise DomainError("that reset link is used up or expired; ask for a new one", 410)
    record = login_record(affiliate.id)
    record.reset_token_hash = None
    record.reset_token_expires_at = None
    try:
        set_affiliate_password(affiliate, password)  # commits the token's end with it
    except DomainError:
        db.session.rollback()  # a refused password leaves the link working
        raise
    return affiliate


def note_signin(affiliate: Affiliate) -> None:
    login_record(affiliate.id).last_signin_at = utcnow()
    db.session.commit()


def timezone_of(affiliate_id: int) -> str:
    record = db.session.get(AffiliateLogin, affiliate_id)
    return record.timezone if record is not None else ""


def set_timezone(affiliate_id: int, zone: str) -> None:
    zone = (zone or "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(f"time zone: unknown zone {zone!r}") from None
    login_record(affiliate_id).timezone = zone
    db.session.commit()
