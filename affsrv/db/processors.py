"""Values converted by SQLAlchemy's own type processors (bind or result) outside its
execution machinery: what the bulk click writes (``bulk.py``) and the compiled hot-path reads
(``reads.py``) do to stay equal to ``connection.execute`` at a fraction of its per-row cost."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

# (column position, processor) for the columns whose type has a processor.
Step = tuple[int, Callable[[Any], Any]]


def steps_of(processors: Iterable[Callable[[Any], Any] | None]) -> list[Step]:
    """The steps of a row's processors, one per column (None: the value passes as it is)."""
    return [(i, process) for i, process in enumerate(processors) if process is not None]


def converted(rows: Iterable[Sequence[Any]], steps: list[Step]) -> list[tuple[Any, ...]]:
    """Each row as a tuple with ``steps`` applied (a NULL stays None, as SQLAlchemy leaves it)."""
    out = []
    for row in rows:
        values = list(row)
        for i, process in steps:
            if values[i] is not None:
                values[i] = process(values[i])
        out.append(tuple(values))
    return out
