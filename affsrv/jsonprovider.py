"""Flask's JSON answers (``jsonify``), encoded by orjson.

The Data API's answers are maps of dozens of small objects (`referrals` is a few kB): the
standard library's encoder takes about as long over one of them as affsrv's query does, and
orjson encodes the same JSON several times faster (``bench/parts.py encode``). Everything it
does not encode itself the way Flask does (decimals, dates and times, dataclasses) goes
through Flask's own ``default``, so an answer holds the same values as with Flask's provider.
Non-ASCII text is sent as UTF-8 rather than as ``\\u`` escapes (the same JSON to any parser).
Reading JSON is left to Flask's provider.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from werkzeug.wrappers import Response

# Non-string keys become strings, as with the standard library. Dates, times and dataclasses
# go to Flask's ``default`` (HTTP dates, asdict) instead of orjson's own formats.
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


class OrjsonProvider(DefaultJSONProvider):
    """``DefaultJSONProvider`` whose compact answers are encoded by orjson."""

    def _encode(self, obj: Any) -> bytes | None:
        """``obj`` as compact JSON, or None where orjson refuses it (an integer beyond 64 bits,
        a key it cannot turn into a string): the standard library then encodes it or says why
        not, exactly as Flask would."""
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs or self.sort_keys:  # options (indent, sorting) orjson does not share
            return super().dumps(obj, **kwargs)
        encoded = self._encode(obj)
        return super().dumps(obj) if encoded is None else encoded.decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        indented = self.compact is False or (self.compact is None and self._app.debug)
        if indented or self.sort_keys:
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        encoded = self._encode(obj)
        if encoded is None:
            return super().response(obj)
        return self._app.response_class(encoded + b"\n", mimetype=self.mimetype)
