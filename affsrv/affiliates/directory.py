"""Each worker's directory of affiliates by code, for the landing link and the Data API
(see ``affsrv.directory``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from affsrv.affiliates.models import Affiliate, is_well_formed_code
from affsrv.directory import Directory, DirectorySource, app_directory, table_source


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


def _ref(row: tuple) -> AffiliateRef:
    affiliate_id, code, ip, enabled, approved, updated_at = row
    return AffiliateRef(affiliate_id, code, ip or "", bool(enabled), bool(approved), updated_at)


_SOURCE: DirectorySource[str, AffiliateRef] = table_source(
    (_A.id, _A.code, _A.ip, _A.enabled, _A.approved, _A.updated_at), _A.code, _ref,
    key=lambda ref: ref.code,
)


def affiliate_directory() -> Directory[str, AffiliateRef]:
    """The running app's affiliate directory."""
    return app_directory("affiliate_directory", _SOURCE)


def find_affiliate(code: str) -> AffiliateRef | None:
    """The affiliate with this code (as of at most ``[server] cache_seconds`` ago), or None."""
    if not is_well_formed_code(code):
        return None
    return affiliate_directory().get(code)
