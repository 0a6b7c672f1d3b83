"""The reports' rollups and the reporting keys.

Every rollup is a sum kept current in the transaction that writes what it counts (an order, a
commission, a batch of clicks), added to with INSERT ... ON CONFLICT DO UPDATE so two racing
writers both count. Time is bucketed in UTC:

- ``*_q`` tables by quarter hour (``bucket`` = Unix seconds // 900): every zone's offset is a
  whole number of quarter hours (India +5:30, Nepal +5:45), so a zone's days and hours are
  unions of buckets, and the time groupings (day, hour, weekday) come out exact.
- ``*_d`` tables by UTC day (``bucket`` = Unix seconds // 86400): a report grouped by place,
  product, affiliate, account or method reads whole UTC days here and only the quarter hours of
  the range's two ragged ends from ``*_q``, so a two-year report reads ~730 day buckets, not
  ~70,000 quarter buckets.
- Postal codes are counted apart (``report_postal_*``): a postal code is nearly unique per
  order, so in the main rollups it would make every row one order's; there it would multiply
  the rows every other grouping reads.
- ``report_minutes`` (Unix seconds // 60, per account and currency only) answers today's live
  report per minute; it is small (at most 1440 rows a day per account and currency).

The sums are of money (``Money``: exact cents on both databases) and counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from affsrv.db.types import BigId, Money, UTCDateTime, utcnow
from affsrv.extensions import db

QUARTER_SECONDS = 900
DAY_SECONDS = 86400
MINUTE_SECONDS = 60

#: The sums every sales rollup keeps, in this order.
SALES_MEASURES = (
    "orders", "gross", "refunds", "refund_amount", "chargebacks", "chargeback_amount",
    "commissions",
)
MONEY_MEASURES = frozenset({"gross", "refund_amount", "chargeback_amount", "commissions"})

#: The dimensions of the main sales rollups (``report_sales_q``/``_d``), in key order.
SALES_DIMENSIONS = ("account", "product", "affiliate", "method", "country", "state", "currency")
#: The dimensions of the postal-code rollups.
POSTAL_DIMENSIONS = ("account", "product", "affiliate", "country", "postal", "currency")
#: The dimensions of the per-minute rollup of today's live report.
MINUTE_DIMENSIONS = ("account", "currency")
#: The dimensions of the click rollups.
CLICK_DIMENSIONS = ("affiliate_id", "product_id", "link_id", "country")

_WIDTHS = {"account": 64, "product": 64, "affiliate": 64, "method": 32, "country": 2,
           "state": 100, "postal": 20, "currency": 3}


def _dimension(name: str) -> Column:
    if name in {"affiliate_id", "product_id"}:
        return Column(name, Integer, primary_key=True, autoincrement=False)
    if name == "link_id":
        return Column(name, BigId, primary_key=True, autoincrement=False)
    return Column(name, String(_WIDTHS[name]), primary_key=True)


def _sales_rollup(name: str, dimensions: tuple[str, ...]) -> Table:
    return Table(
        name, db.metadata,
        Column("bucket", Integer, primary_key=True, autoincrement=False),
        *(_dimension(d) for d in dimensions),
        *(Column(m, Money() if m in MONEY_MEASURES else BigInteger, nullable=False)
          for m in SALES_MEASURES),
    )


def _click_rollup(name: str) -> Table:
    return Table(
        name, db.metadata,
        Column("bucket", Integer, primary_key=True, autoincrement=False),
        *(_dimension(d) for d in CLICK_DIMENSIONS),
        Column("clicks", BigInteger, nullable=False),
    )


sales_q = _sales_rollup("report_sales_q", SALES_DIMENSIONS)
sales_d = _sales_rollup("report_sales_d", SALES_DIMENSIONS)
postal_q = _sales_rollup("report_postal_q", POSTAL_DIMENSIONS)
postal_d = _sales_rollup("report_postal_d", POSTAL_DIMENSIONS)
minutes = _sales_rollup("report_minutes", MINUTE_DIMENSIONS)
clicks_q = _click_rollup("report_clicks_q")
clicks_d = _click_rollup("report_clicks_d")

#: Every rollup, with the seconds of its bucket and its dimensions.
SALES_ROLLUPS: tuple[tuple[Table, int, tuple[str, ...]], ...] = (
    (sales_q, QUARTER_SECONDS, SALES_DIMENSIONS),
    (sales_d, DAY_SECONDS, SALES_DIMENSIONS),
    (postal_q, QUARTER_SECONDS, POSTAL_DIMENSIONS),
    (postal_d, DAY_SECONDS, POSTAL_DIMENSIONS),
    (minutes, MINUTE_SECONDS, MINUTE_DIMENSIONS),
)
CLICK_ROLLUPS: tuple[tuple[Table, int], ...] = (
    (clicks_q, QUARTER_SECONDS),
    (clicks_d, DAY_SECONDS),
)


class ReportKey(db.Model):
    """A key for the HTTP reports (``/reports/v1``), made with ``affsrv report key create``."""

    __tablename__ = "report_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the key (``affsrv.keyhash``): keys are 256-bit random, no password KDF needed.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, to tell keys apart in `affsrv report key list`.
    prefix: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
