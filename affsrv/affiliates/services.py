"""Affiliate accounts: creation, lookup, approval, closing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.schemas import (
    AffiliateCreateSchema,
    AffiliateInfoSchema,
    AffiliateUpdateSchema,
)
from affsrv.db.functions import unix_seconds
from affsrv.db.reads import one_row
from affsrv.db.session import commit_or_conflict
from affsrv.errors import Conflict, DomainError, Forbidden, NotFound
from affsrv.extensions import db
from affsrv.passwords import hash_password, needs_rehash, verify_password
from affsrv.settings import settings
from affsrv.validation import format_errors

_create_schema = AffiliateCreateSchema()
_info_schema = AffiliateInfoSchema()
_update_schema = AffiliateUpdateSchema()


def create_affiliate(**data: Any) -> Affiliate:
    """Validate ``data`` (see ``AffiliateCreateSchema``) and add the affiliate.

    Without a ``code`` the affiliate's code is its id, as in the system the Data API comes from.
    """
    try:
        values = _create_schema.load({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    pending = values.pop("pending") or settings("affiliates")["require_approval"]
    password = values.pop("password")
    code = values.pop("code")
    affiliate = Affiliate(
        **values,
        code=code or f"new-{uuid.uuid4().hex}",
        approved=not pending,
        enabled=True,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(affiliate)
    try:
        db.session.flush()
        if code is None:
            affiliate.code = _free_code(str(affiliate.id))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("an affiliate with that e-mail or code already exists") from None
    return affiliate


def _free_code(wanted: str) -> str:
    code, n = wanted, 1
    while db.session.scalar(select(Affiliate.id).where(Affiliate.code == code)) is not None:
        n += 1
        code = f"{wanted}-{n}"
    return code


def get_affiliate(code: str) -> Affiliate:
    """The affiliate with this code, or ``NotFound``."""
    affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == code))
    if affiliate is None:
        raise NotFound(f"unknown affiliate code {code!r}")
    return affiliate


# Built once: a Core statement over the table (no ORM entity) skips building and compiling the
# query per call; the Data API reads affiliates on every request.
_A = Affiliate.__table__.c  # Core columns: no ORM compile step on the hot path
# What the Data API's `info` answers (never the password hash), the creation time in Unix
# seconds as the database computes it (parsing a datetime per call cost more).
_INFO_BY_CODE = select(
    _A.id, unix_seconds(_A.created_at).label("ts"), _A.code, _A.fname, _A.lname, _A.email,
    _A.ip, _A.commtier, _A.payinfo, _A.notes, _A.approved, _A.enabled, _A.extra,
).where(_A.code == bindparam("code"))


def get_affiliate_record(code: str, connection: Connection | None = None) -> Any:
    """The affiliate with this code as a read-only row of what the Data API's `info` answers
    (``_INFO_BY_CODE``'s columns), or ``NotFound``: one query, no ORM object."""
    row = one_row(connection or db.session.connection(), _INFO_BY_CODE, {"code": code})
    if row is None:
        raise NotFound(f"unknown affiliate code {code!r}")
    return row


def get_active_affiliate(code: str, *, must_be_approved: bool = False) -> Affiliate:
    """The enabled affiliate with this code; refuses disabled (and, when asked, unapproved)."""
    affiliate = get_affiliate(code)
    if not affiliate.enabled:
        raise Forbidden(f"affiliate {code!r} is disabled")
    if must_be_approved and not affiliate.approved:
        raise Forbidden(f"affiliate {code!r} is awaiting approval")
    return affiliate


def affiliate_info(record: Any) -> dict[str, dict[str, str]]:
    """The Data API's `info` answer, ``{"data": ...}``, for a ``get_affiliate_record`` row: the
    record as strings, plus the merchant's extra fields."""
    return _info_schema.dump(record)


def set_approved(code: str, approved: bool = True) -> Affiliate:
    affiliate = get_affiliate(code)
    affiliate.approved = approved
    db.session.commit()
    return affiliate


def set_enabled(code: str, enabled: bool) -> Affiliate:
    affiliate = get_affiliate(code)
    if enabled and is_closed(affiliate):
        raise Conflict(f"affiliate {code!r} closed their account: it cannot be enabled again")
    affiliate.enabled = enabled
    db.session.commit()
    return affiliate


def clickbank_nickname_key(nickname: str) -> str:
    """A ClickBank nickname as affsrv stores and compares it: ClickBank's nicknames ignore
    case (it shows and sends them in lower case), so an alias typed ``annCB77`` must match a
    notification naming ``anncb77``."""
    return nickname.strip().lower()


def _checked_nickname(nickname: str | None) -> str | None:
    nickname = clickbank_nickname_key(nickname or "") or None
    if nickname is not None and (len(nickname) > 64 or not nickname.isprintable()):
        raise DomainError("clickbank nickname: at most 64 printable characters")
    return nickname


def set_clickbank_nickname(code: str, nickname: str | None) -> Affiliate:
    """Match this affiliate to ClickBank notifications naming ``nickname`` as the affiliate,
    in any case (``None`` or ``""`` removes the alias)."""
    affiliate = get_affiliate(code)
    nickname = _checked_nickname(nickname)
    affiliate.clickbank_nickname = nickname
    commit_or_conflict(f"another affiliate already has ClickBank nickname {nickname!r}")
    return affiliate


def list_affiliates() -> list[Affiliate]:
    return list(db.session.scalars(select(Affiliate).order_by(Affiliate.id)))


def update_affiliate(code: str, **data: Any) -> Affiliate:
    """Change the fields ``AffiliateUpdateSchema`` names (a ``commtier`` of None removes the
    affiliate's own percentage) and ``clickbank_nickname`` (as ``set_clickbank_nickname``);
    all or nothing."""
    affiliate = get_affiliate(code)
    alias = "clickbank_nickname" in data
    nickname = _checked_nickname(data.pop("clickbank_nickname", None))
    try:
        values = _update_schema.load(data)
    except ValidationError as exc:
        raise DomainError(format_errors(exc.messages)) from None
    for name, value in values.items():
        setattr(affiliate, name, value)
    if alias:
        affiliate.clickbank_nickname = nickname
    commit_or_conflict("another affiliate already has that e-mail or ClickBank nickname")
    return affiliate


AFFILIATE_STATES = ("pending", "active", "disabled")


def search_affiliates(text: str = "", state: str = "", limit: int = 200) -> list[Affiliate]:
    """Affiliates whose code, name or e-mail contains ``text`` (any case), newest first;
    ``state``: pending (awaiting approval), active (approved and enabled) or disabled."""
    query = select(Affiliate).order_by(Affiliate.id.desc()).limit(limit)
    text = text.strip()
    if text:
        # Escaped: a '%' or '_' typed into the search box is that character, not a wildcard.
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        query = query.where(or_(*(
            func.lower(column).like(pattern, escape="\\")
            for column in (Affiliate.code, Affiliate.email, Affiliate.fname, Affiliate.lname,
                           Affiliate.fname + " " + Affiliate.lname)
        )))
    if state == "pending":
        query = query.where(Affiliate.approved.is_(False))
    elif state == "active":
        query = query.where(Affiliate.approved.is_(True), Affiliate.enabled.is_(True))
    elif state == "disabled":
        query = query.where(Affiliate.enabled.is_(False))
    return list(db.session.scalars(query))


def get_affiliate_by_email(email: str) -> Affiliate | None:
    """The affiliate with this e-mail address (in any case), or None."""
    return db.session.scalar(
        select(Affiliate).where(func.lower(Affiliate.email) == (email or "").strip().lower())
    )


def check_affiliate_password(email: str, password: str) -> Affiliate | None:
    """The affiliate with this e-mail and password, or None (the same for an unknown e-mail
    and a wrong password, in about the same time)."""
    affiliate = get_affiliate_by_email(email)
    matches = verify_password(affiliate.password_hash if affiliate is not None else None,
                              password)
    if affiliate is None or not affiliate.password_hash or not matches:
        return None
    if needs_rehash(affiliate.password_hash):
        affiliate.password_hash = hash_password(password)
        db.session.commit()
    return affiliate


AFFILIATE_PASSWORD_MIN = 8  # as AffiliateCreateSchema asks


def set_affiliate_password(affiliate: Affiliate, password: str) -> None:
    if not AFFILIATE_PASSWORD_MIN <= len(password) <= 200:
        raise DomainError(f"password: {AFFILIATE_PASSWORD_MIN} to 200 characters, please")
    affiliate.password_hash = hash_password(password)
    db.session.commit()


def change_affiliate_password(affiliate: Affiliate, current: str, new: str) -> None:
    if not verify_password(affiliate.password_hash, current or ""):
        raise DomainError("current password: that is not your password")
    set_affiliate_password(affiliate, new)


# A closed account's e-mail: unique (the column is), and no address anybody can receive mail at
# (RFC 2606 reserves .invalid), so no reset link or e-mail can reach anyone through it.
CLOSED_DOMAIN = "closed.invalid"
CLOSED_NAME = "(closed)"


def closed_email(affiliate_id: int) -> str:
    return f"closed-{affiliate_id}@{CLOSED_DOMAIN}"


def is_closed(affiliate: Any) -> bool:
    """Whether the affiliate closed their account (``close_affiliate``)."""
    return affiliate.email == closed_email(affiliate.id)


def close_affiliate(affiliate: Affiliate, now: datetime | None = None) -> None:
    """Close the account for good: the personal data erased (name, e-mail, sign-up IP, payment
    info, the merchant's notes and extra fields, ClickBank alias, password), disabled so the
    code earns nothing more and nobody can sign in. The id and code stay, so the commissions,
    payments and the reports' rows (kept by code) still add up in the merchant's books; the
    record says it was closed (name "(closed)", a closed-<id>@closed.invalid address, a note
    with the date). Commits, with whatever else the caller's session holds."""
    day = (now or datetime.now(UTC)).date().isoformat()
    affiliate.fname = CLOSED_NAME
    affiliate.lname = ""
    affiliate.email = closed_email(affiliate.id)
    affiliate.ip = ""
    affiliate.payinfo = ""
    affiliate.notes = f"Closed by the affiliate on {day} (UTC); personal data erased."
    affiliate.extra = {}
    affiliate.clickbank_nickname = None
    affiliate.password_hash = None
    affiliate.enabled = False
    db.session.commit()
