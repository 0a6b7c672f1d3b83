"""Content negotiation, and the XML and ClickBank-style JSON writers.

Answers are built once as a tree of plain values and written in either format:

- a ``dict`` is an element's children in order; keys starting with ``@`` are attributes;
- a ``list`` is a repeated element (a JSON array, even with one item);
- ``Wrapped(child, items)`` is a wrapper element holding repeated ``child`` elements; in JSON it
  becomes ``[{child: item}, ...]``, the shape the OpenAPI file gives ``categories`` and
  ``pricings``;
- ``NIL`` is a nil value: ``xsi:nil="true"`` in XML, ``{"@nil": "true"}`` in JSON;
- ``None`` leaves the element out;
- scalars are written as text: ``true``/``false``, decimals exactly, times as
  ``yyyy-mm-ddThh:mm:ssZ`` (UTC). In JSON every scalar is a string, as ClickBank writes it.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, request

from affsrv.restapi.errors import RestError

XML = "application/xml"
JSON = "application/json"
TEXT = "text/plain"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ET.register_namespace("xsi", XSI)


class _Nil:
    def __repr__(self) -> str:
        return "NIL"


NIL = _Nil()


@dataclass(frozen=True)
class Wrapped:
    child: str
    items: list[Any]


def negotiate(allowed: tuple[str, ...] = (XML, JSON)) -> str:
    """The media type to answer in: XML when no ``Accept`` is sent, else the best of
    ``allowed`` the client accepts; 406 when it accepts none of them."""
    if not request.headers.get("Accept", "").strip():
        return allowed[0]
    best = request.accept_mimetypes.best_match(allowed)
    if best is None:
        raise RestError(406, f"cannot answer in the requested Accept type; this method "
                             f"answers {' or '.join(allowed)}")
    return best


_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return _XML_INVALID.sub("", str(value))


def _xml_fill(element: ET.Element, value: Any) -> None:
    if value is NIL:
        element.set(f"{{{XSI}}}nil", "true")
    elif isinstance(value, Wrapped):
        for item in value.items:
            _xml_fill(ET.SubElement(element, value.child), item)
    elif isinstance(value, dict):
        for key, child in value.items():
            if child is None:
                continue
            if key.startswith("@"):
                element.set(key[1:], scalar_text(child))
            elif isinstance(child, list):
                for item in child:
                    _xml_fill(ET.SubElement(element, key), item)
            else:
                _xml_fill(ET.SubElement(element, key), child)
    else:
        element.text = scalar_text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _xml_fill(element, value)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body).encode()


def to_json_value(value: Any) -> Any:
    if value is NIL:
        return {"@nil": "true"}
    if isinstance(value, Wrapped):
        return [{value.child: to_json_value(item)} for item in value.items]
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_json_value(item) for item in value]
    return scalar_text(value)


def respond(media: str, root: str, value: Any, status: int = 200) -> Response:
    """Write ``value`` (the content of element ``root``) in ``media``. JSON drops the root
    element, as ClickBank's JSON does."""
    if media == JSON:
        body = json.dumps(to_json_value(value), ensure_ascii=False)
        return Response(body, status=status, mimetype=JSON)
    return Response(to_xml(root, value), status=status, mimetype=XML)


def respond_count(media: str, count: int) -> Response:
    """A count: ``<count>N</count>``, a bare JSON integer (the OpenAPI file's schema), or
    plain text."""
    if media == JSON:
        return Response(str(count), mimetype=JSON)
    if media == TEXT:
        return Response(str(count), mimetype=TEXT)
    return Response(to_xml("count", count), mimetype=XML)
