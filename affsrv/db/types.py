"""Column types that keep money exact and times in UTC on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up, as shops and payment processors do."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class FixedDecimal(TypeDecorator[Decimal]):
    """An exact decimal with a fixed number of places, always a ``Decimal`` in Python.

    PostgreSQL stores ``NUMERIC(precision, scale)``. SQLite has no decimal type (it would keep a
    binary float), so there the value is stored as a scaled integer (cents for money): sums stay
    exact. ``type_coerce(func.sum(col), Money())`` gives a ``Decimal`` back on both.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self.quantum = Decimal(1).scaleb(-scale)
        self.factor = 10**scale

    def __repr__(self) -> str:  # how Alembic writes it into a migration
        return f"{type(self).__name__}(precision={self.precision}, scale={self.scale})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for exact decimals")
        amount = Decimal(value).quantize(self.quantum, rounding=ROUND_HALF_UP)
        if dialect.name == "sqlite":
            return int(amount * self.factor)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)  # exact: 1234 cents is 12.34
        return Decimal(value).quantize(self.quantum, rounding=ROUND_HALF_UP)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # The same as process_result_value, without TypeDecorator's wrapper and the dialect
        # test on every value: the Data API's totals convert dozens per answer, a long report
        # tens of thousands (on PostgreSQL the wrapper took half of a long report's service CPU).
        if dialect.name == "sqlite":
            exponent = -self.scale

            def from_cents(value: Any) -> Decimal | None:
                return None if value is None else Decimal(int(value)).scaleb(exponent)

            return from_cents
        quantum = self.quantum
        to_decimal = self.impl_instance.result_processor(dialect, coltype)
        if to_decimal is None:  # the driver gives a Decimal (a NUMERIC column)

            def rounded(value: Any) -> Decimal | None:
                return None if value is None else value.quantize(quantum, ROUND_HALF_UP)

            return rounded

        def converted_and_rounded(value: Any) -> Decimal | None:
            value = to_decimal(value)
            return None if value is None else Decimal(value).quantize(quantum, ROUND_HALF_UP)

        return converted_and_rounded


def Money() -> FixedDecimal:  # noqa: N802 - reads as a column type
    """Money: 12 digits before the point, cents after."""
    return FixedDecimal(14, 2)


def MoneySum() -> FixedDecimal:  # noqa: N802 - reads as a column type
    """A kept sum of Money (a total, a rollup): 16 digits before the point, so that summing
    amounts of up to 12 digits cannot overflow where a single amount fits (on SQLite the
    cents still fit a 64-bit integer)."""
    return FixedDecimal(18, 2)


def Percent() -> FixedDecimal:  # noqa: N802 - reads as a column type
    """A percentage such as 17.5 (for 17.5%), three decimals."""
    return FixedDecimal(6, 3)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time stored in UTC and always returned timezone-aware (UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite compares stored text: keep one naive UTC form so ordering and ranges hold.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids are plain integers there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
