"""Each worker's directory of affiliates by code, for the landing link and the Data API
(see ``affsrv.directory``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from affsrv.affiliates.models import CODE_PATTERN, Affiliate
from affsrv.db.reads import one_row, run_read
from affsrv.directory import Directory, DirectorySource, app_directory

_CODE_RE = re.compile(CODE_PATTERN)


@dataclass(frozen=True, slots=True)
class AffiliateRef:
    """What the hot paths need of an affiliate."""

    id: int
    code: str
    ip: str
    enabled: bool
    approved: bool
    updated_at: datetime | None

    def refusal(self, require_approval: bool) -> str:
        """Why this affiliate may not earn now ("" if it may)."""
        if not self.enabled:
            return "affiliate disabled"
        if require_approval and not self.approved:
            return "affiliate awaiting approval"
        return ""


_A = Affiliate.__table__.c
_COLUMNS = (_A.id, _A.code, _A.ip, _A.enabled, _A.approved, _A.updated_at)
_ALL = select(*_COLUMNS)
_BY_CODE = select(*_COLUMNS).where(_A.code == bindparam("code"))


def _ref(row: tuple) -> AffiliateRef:
    affiliate_id, code, ip, enabled, approved, updated_at = row
    return AffiliateRef(affiliate_id, code, ip or "", bool(enabled), bool(approved), updated_at)


def _load_all() -> list[AffiliateRef]:
    return run_read(lambda conn: [_ref(row) for row in conn.execute(_ALL)])


def _load_changed(since: datetime) -> list[AffiliateRef]:
    query = _ALL.where(_A.updated_at >= since)
    return run_read(lambda conn: [_ref(row) for row in conn.execute(query)])


def _load_one(code: str) -> AffiliateRef | None:
    row = run_read(lambda conn: one_row(conn, _BY_CODE, {"code": code}))
    return None if row is None else _ref(row)


_SOURCE: DirectorySource[str, AffiliateRef] = DirectorySource(
    key=lambda ref: ref.code, load_all=_load_all, load_one=_load_one,
    load_changed=_load_changed,
)


def affiliate_directory() -> Directory[str, AffiliateRef]:
    """The running app's affiliate directory."""
    return app_directory("affiliate_directory", _SOURCE)


def find_affiliate(code: str) -> AffiliateRef | None:
    """The affiliate with this code (as of at most ``[server] cache_seconds`` ago), or None."""
    if not _CODE_RE.match(code):
        return None
    return affiliate_directory().get(code)
