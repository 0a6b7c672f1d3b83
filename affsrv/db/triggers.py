"""Triggers that keep a totals table equal to the sum of its rows, whoever writes the rows.

They are part of the schema: made by the migrations, and by ``db.create_all()`` through
``create_with_tables`` (after every table, as a trigger names two of them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import DDL, MetaData, event


def create_with_tables(metadata: MetaData, statements: Mapping[str, Sequence[str]]) -> None:
    """Run ``statements[dialect]`` whenever ``metadata.create_all`` has made the tables."""
    for dialect, texts in statements.items():
        for text in texts:
            event.listen(
                metadata, "after_create",
                DDL(text.replace("%", "%%")).execute_if(dialect=dialect),  # type: ignore[no-untyped-call]
            )


