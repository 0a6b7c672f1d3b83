"""The affiliate area's own records: sign-up (and telling the merchant), password-reset
tokens, the affiliate's time zone, closing the account; the affiliate's clicks and earnings
from the reports. Accounts, passwords and money stay with their domains."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.services import (
    close_affiliate,
    create_affiliate,
    get_affiliate_by_email,
    set_affiliate_password,
)
from affsrv.commissions.services import ledger_currency
from affsrv.db.types import utcnow
from affsrv.errors import DomainError
from affsrv.extensions import db
from affsrv.notifications.services import enqueue_email
from affsrv.passwords import verify_password
from affsrv.portal.models import AffiliateLogin
from affsrv.reports.services import AffiliateRow, Filters, Period, affiliates_report
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


def close_account(affiliate: Affiliate, password: str) -> None:
    """Close the affiliate's own account (``[affiliates] allow_close``), after their password
    again: ``affiliates.services.close_affiliate``, and the area's record of them (zone, reset
    link, last sign-in) deleted in the same transaction."""
    if not settings("affiliates")["allow_close"]:
        raise DomainError("closing an account here is turned off: ask the merchant", 403)
    if not verify_password(affiliate.password_hash, password or ""):
        raise DomainError("password: that is not your password", 401)
    record = db.session.get(AffiliateLogin, affiliate.id)
    if record is not None:
        db.session.delete(record)
    close_affiliate(affiliate)


@dataclass(frozen=True)
class Performance:
    """An affiliate's clicks, sales, earnings, conversion rate and earnings per click over a
    period, by product, by referring link, by day and overall (one row per currency)."""

    by_product: list[AffiliateRow]
    by_link: list[AffiliateRow]
    by_day: list[AffiliateRow]
    overall: list[AffiliateRow]


def performance(code: str, period: Period) -> Performance:
    """The affiliates report (``affsrv.reports.services``) narrowed to affiliate ``code``."""
    connection = db.session.connection()
    filters = Filters(affiliate=code)
    by_product = affiliates_report(connection, "product", period, filters)
    return Performance(
        by_product=by_product,
        by_link=affiliates_report(connection, "link", period, filters),
        by_day=affiliates_report(connection, "day", period, filters),
        overall=overall(by_product),
    )


def overall(rows: list[AffiliateRow]) -> list[AffiliateRow]:
    """The rows of one grouping summed: every click once (a group's clicks repeat in each of
    its currencies' rows), sales and earnings per currency."""
    clicks = sum({row.key: row.clicks for row in rows}.values())
    sales: dict[str, int] = defaultdict(int)
    earned: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sales[row.currency] += row.sales or 0
        earned[row.currency] += row.commissions or Decimal("0.00")
    if not rows:
        return [AffiliateRow("all", ledger_currency(), 0, 0, Decimal("0.00"))]
    return [AffiliateRow("all", currency, clicks, sales[currency], earned[currency])
            for currency in sales]
