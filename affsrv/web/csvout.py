"""CSV downloads of the pages' tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

# A spreadsheet would run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if not isinstance(value, str) or not text.startswith(_FORMULA_STARTS):
        return text  # numbers (a negative amount too) stay as they are
    return "'" + text


def csv_response(filename: str, header: Sequence[str] | None, rows: Iterable[Sequence[Any]]
                 ) -> Response:
    """A CSV attachment (RFC 4180: CRLF line ends, UTF-8); text a spreadsheet would take for a
    formula gets a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
