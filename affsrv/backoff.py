"""Waiting longer after each failure in a row, for loops that retry while the database is down
(the click buffer's writer, the notification worker)."""

from __future__ import annotations

LONGEST_WAIT_SECONDS = 60.0


def backoff_seconds(base: float, failures: int, longest: float = LONGEST_WAIT_SECONDS) -> float:
    """The wait after ``failures`` failed tries in a row: ``base`` doubled each time, at most
    ``longest`` (so a database that comes back is tried again within that time)."""
    return min(base * 2 ** min(failures, 30), longest)
