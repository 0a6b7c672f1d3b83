"""What the overview's and the reports' charts draw, from the reports' rows: small JSON specs
that ``/assets/charts.js`` turns into ECharts options (the pages' CSP forbids inline script,
so the data travels in a ``data-chart`` attribute). Amounts stay strings of the exact
``Decimal``; only the browser makes numbers of them, to draw."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from affsrv.reports.services import WEEKDAYS, AffiliateRow, SalesRow

#: The most bars a chart of groups shows (the table below it has every row).
CHART_GROUPS = 20
NONE_LABEL = "(none)"
_ZERO = Decimal("0.00")


def _label(key: str) -> str:
    return key or NONE_LABEL


def _currencies(rows: Sequence[Any], ledger: str) -> list[str]:
    """The rows' currencies in the reports' order (they come ledger first); the ledger
    currency alone when there are no rows."""
    seen = list(dict.fromkeys(r.currency for r in rows))
    return seen or [ledger]


def _by_key(rows: Sequence[Any], currency: str, figure: str) -> dict[str, Any]:
    return {r.key: getattr(r, figure) for r in rows if r.currency == currency}


def _value(value: Any) -> Any:
    return None if value is None else (value if isinstance(value, int) else str(value))


def time_series(rows: Sequence[SalesRow], keys: Sequence[str], ledger: str,
                figures: Sequence[tuple[str, str]] = (("gross", "Gross"), ("net", "Net")),
                kind: str = "line") -> dict[str, Any]:
    """Sales figures over ``keys`` (every day, hour or weekday, those without sales at 0), a
    series per figure and currency."""
    series = []
    for currency in _currencies(rows, ledger):
        for figure, name in figures:
            found = _by_key(rows, currency, figure)
            series.append({"name": f"{name} {currency}",
                           "data": [_value(found.get(k, _ZERO)) for k in keys]})
    return {"kind": kind, "categories": list(keys), "series": series}


def days_between(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def weekday_hours(rows: Sequence[SalesRow]) -> dict[str, Any]:
    """Orders (every currency together: a count adds up) per weekday and hour, as a heat
    map: weekdays down, hours across."""
    orders: dict[tuple[int, int], int] = {}
    for row in rows:
        weekday, hour = row.key.rsplit(" ", 1)
        cell = (int(hour), WEEKDAYS.index(weekday))
        orders[cell] = orders.get(cell, 0) + row.orders
    cells = [[hour, day, orders.get((hour, day), 0)] for day in range(7) for hour in range(24)]
    return {"kind": "heatmap", "categories": [f"{h:02d}" for h in range(24)],
            "rows": list(WEEKDAYS), "cells": cells, "max": max(orders.values(), default=0)}


def sales_groups(rows: Sequence[SalesRow], ledger: str) -> dict[str, Any]:
    """Gross and net of the largest groups (by gross, as the report orders them), a bar per
    currency."""
    keys = list(dict.fromkeys(r.key for r in rows))[:CHART_GROUPS]
    spec = time_series(rows, keys, ledger, kind="bar")
    spec["categories"] = [_label(k) for k in keys]
    return spec


def affiliate_groups(rows: Sequence[AffiliateRow], by: str) -> dict[str, Any]:
    """Clicks and sales per group (links: clicks alone); by day, every day as a line."""
    keys = list(dict.fromkeys(r.key for r in rows))
    if by != "day":
        keys = keys[:CHART_GROUPS]
    clicks: dict[str, int] = {}
    for row in rows:  # a group's clicks are repeated on each of its currencies' rows
        clicks[row.key] = row.clicks
    series = [{"name": "Clicks", "data": [clicks[k] for k in keys]}]
    if by != "link":
        sales = {k: 0 for k in keys}
        for row in rows:
            if row.key in sales:
                sales[row.key] += row.sales or 0
        series.append({"name": "Sales", "data": [sales[k] for k in keys]})
    return {"kind": "line" if by == "day" else "bar",
            "categories": [_label(k) for k in keys], "series": series}
