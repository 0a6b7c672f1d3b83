"""Query-string fields and the date window shared by shipping2 and orders2."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import MultiDict

from affsrv.restapi.errors import bad_request
from affsrv.settings import settings
from affsrv.validation import format_errors

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INT = re.compile(r"^-?[0-9]{1,9}\Z")


class QueryDate(fields.Field):
    """A calendar date written ``yyyy-mm-dd``."""

    default_error_messages = {"invalid": "must be a date written yyyy-mm-dd, such as 2024-03-31"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        text = value.strip() if isinstance(value, str) else ""
        if not _DATE.match(text):
            raise self.make_error("invalid")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise self.make_error("invalid") from None
        if not 1900 <= day.year <= 9000:
            raise ValidationError("must be a date between the years 1900 and 9000")
        return day


class QueryInt(fields.Field):
    """A whole number written in digits (at most nine), within ``minimum``..``maximum``."""

    def __init__(self, *, minimum: int = 0, maximum: int = 999_999_999, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        text = value.strip() if isinstance(value, str) else ""
        if not _INT.match(text) or not self.minimum <= int(text) <= self.maximum:
            raise ValidationError(
                f"must be a whole number from {self.minimum} to {self.maximum}"
            )
        return int(text)


class QueryBool(fields.Field):
    """``true`` or ``false`` (any case)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        text = value.strip().lower() if isinstance(value, str) else ""
        if text not in {"true", "false"}:
            raise ValidationError("must be true or false")
        return text == "true"


def text(max_length: int = 255, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class Site(fields.String):
    """A site (ClickBank account nickname): case-insensitive, so compared in lower case."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=1, max=64), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class QuerySchema(Schema):
    """The parameters of one REST method. A parameter the method does not take is refused
    (400 naming it): a misspelt filter must not answer as if no filter had been given."""

    class Meta:
        unknown = RAISE


NO_PARAMETERS = QuerySchema()


def load_query(schema: QuerySchema, args: MultiDict[str, str],
               lists: Iterable[str] = ()) -> dict[str, Any]:
    """Load the query string with ``schema``; a parameter given twice (other than those in
    ``lists``, which become lists) is an error; 400 names every problem."""
    lists = set(lists)
    data: dict[str, Any] = {}
    repeated = []
    for key in args:
        values = args.getlist(key)
        if key in lists:
            data[key] = [v for value in values for v in value.split(",")]
        elif len(values) > 1:
            repeated.append(key)
        else:
            data[key] = values[0]
    errors: dict[str, Any] = {k: ["given more than once"] for k in repeated}
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        errors = {**exc.messages, **errors} if isinstance(exc.messages, dict) else errors
        loaded = None
    if errors or loaded is None:
        raise bad_request(format_errors(_plain_words(errors)))
    return loaded


_WORDING = {
    "Missing data for required field.": "is required",
    "Unknown field.": "is not a parameter of this method",
}


def _plain_words(messages: Any) -> Any:
    if isinstance(messages, dict):
        return {k: _plain_words(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [_plain_words(m) for m in messages]
    return _WORDING.get(messages, messages) if isinstance(messages, str) else messages


class WindowSchema(QuerySchema):
    """``days`` (default 30), or ``startDate``/``endDate`` (inclusive, in ``[server]
    timezone``), which override ``days``."""

    days = QueryInt(minimum=0, maximum=36_500, load_default=None)
    start_date = QueryDate(data_key="startDate", load_default=None)
    end_date = QueryDate(data_key="endDate", load_default=None)

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and start > end:
            raise ValidationError("must not be after endDate", "startDate")


def _day_start(day: date) -> datetime:
    zone = ZoneInfo(settings("server")["timezone"])
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def resolve_window(values: dict[str, Any],
                   default_days: int | None) -> tuple[datetime | None, datetime | None]:
    """The UTC window ``[start, end)`` the parameters name (None: open on that side)."""
    start_date, end_date = values.get("start_date"), values.get("end_date")
    if start_date or end_date:
        start = _day_start(start_date) if start_date else None
        end = _day_start(end_date + timedelta(days=1)) if end_date else None
        return start, end
    days = values.get("days")
    if days is None:
        days = default_days
    if days is None:
        return None, None
    return datetime.now(UTC) - timedelta(days=days), None
