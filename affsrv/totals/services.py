"""Rebuilding and checking the kept totals (``affsrv totals recount|check``).

Each kept table is derived from rows of its domain, which says how (a SELECT naming the
table's columns). A recount replaces the table with that SELECT; a check compares them in the
database (``EXCEPT`` both ways), so no table is loaded into memory whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, delete, except_, func, insert, or_, select

from affsrv.commissions.models import CommissionTotal
from affsrv.commissions.totals import totals_from_commissions
from affsrv.payments.models import PaymentTotal
from affsrv.payments.totals import totals_from_payments
from affsrv.tracking.models import ClickCount
from affsrv.tracking.services import counts_from_clicks


@dataclass(frozen=True)
class KeptTotals:
    table: Table
    from_rows: Callable[[], Select[Any]]  # the table's rows computed from the source rows

    @property
    def name(self) -> str:
        return self.table.name

    def key(self) -> list[str]:
        return [column.name for column in self.table.primary_key.columns]

    def columns(self) -> list[str]:
        return [column.name for column in self.table.columns]

    def kept(self) -> Select[Any]:
        """The table's rows that are not empty: a row every source row has left (all its
        amounts 0, its time NULL) is kept but equals no row."""
        values = [c for c in self.table.columns if not c.primary_key]
        return select(*(self.table.c[name] for name in self.columns())).where(
            or_(*(c.is_not(None) if c.nullable else c != 0 for c in values))
        )

    def computed(self) -> Select[Any]:
        rows = self.from_rows().subquery()
        return select(*(rows.c[name] for name in self.columns()))


KEPT_TOTALS = (
    KeptTotals(CommissionTotal.__table__, totals_from_commissions),
    KeptTotals(PaymentTotal.__table__, totals_from_payments),
    KeptTotals(ClickCount.__table__, counts_from_clicks),
)


def recount(connection: Connection, kept: KeptTotals) -> int:
    """Replace ``kept``'s table with the totals of its rows, in the caller's transaction; the
    number of rows written."""
    connection.execute(delete(kept.table))
    connection.execute(insert(kept.table).from_select(kept.columns(), kept.computed()))
    # Counted again: psycopg reports no row count for INSERT ... SELECT.
    return connection.scalar(select(func.count()).select_from(kept.table)) or 0


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict[str, Any]
    kept: dict[str, Any] | None  # None: no row kept
    computed: dict[str, Any] | None  # None: the rows give no such total


def differences(connection: Connection, kept: KeptTotals) -> list[Difference]:
    """Where ``kept``'s table differs from the totals of its rows, by key (changes nothing)."""
    key = kept.key()
    found: set[tuple[Any, ...]] = set()
    for one, other in ((kept.kept(), kept.computed()), (kept.computed(), kept.kept())):
        rows = connection.execute(except_(one, other)).all()
        found.update(tuple(row._mapping[name] for name in key) for row in rows)
    return [
        Difference(
            kept.name, dict(zip(key, values, strict=True)),
            _row(connection, kept.kept(), key, values),
            _row(connection, kept.computed(), key, values),
        )
        for values in sorted(found)
    ]


def _row(
    connection: Connection, rows: Select[Any], key: list[str], values: tuple[Any, ...]
) -> dict[str, Any] | None:
    rows = rows.subquery()
    row = connection.execute(select(rows).where(
        and_(*(rows.c[name] == value for name, value in zip(key, values, strict=True)))
    )).first()
    return None if row is None else dict(row._mapping)

