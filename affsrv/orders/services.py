"""Maintenance of what affsrv derives from each stored order."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update

from affsrv.extensions import db
from affsrv.orders.models import CASELESS_SEARCH, Order
from affsrv.text import fold_case

BATCH = 1000


def refold_search_copies() -> int:
    """Set every order's folded copies (``Order.<name>_folded``, which the REST API's
    caseless filters compare) from its columns, for orders written with Core inserts or SQL,
    which do not set them. Reads in batches of ``BATCH`` orders; returns how many changed."""
    table = Order.__table__
    sources = [table.c[name] for name in CASELESS_SEARCH]
    folded = [table.c[f"{name}_folded"] for name in CASELESS_SEARCH]
    change = (
        update(table).where(table.c.id == bindparam("order_id"))
        .values({column.name: bindparam(f"new_{column.name}") for column in folded})
    )
    changed, last = 0, 0
    while True:
        rows = db.session.execute(
            select(table.c.id, *sources, *folded).where(table.c.id > last)
            .order_by(table.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            wanted = [fold_case(value or "") for value in row[1:1 + len(sources)]]
            if wanted != list(row[1 + len(sources):]):
                names = (f"new_{column.name}" for column in folded)
                updates.append({"order_id": row[0], **dict(zip(names, wanted, strict=True))})
        if updates:
            db.session.execute(change, updates)
        changed += len(updates)
        last = rows[-1][0]
    db.session.commit()
    return changed
