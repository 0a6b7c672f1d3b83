"""Checking answers against the contracts: the seeds' XSDs (XML) and the OpenAPI file's schemas
(JSON), kept in ``tests/contracts`` (copies of the seeds and the reference OpenAPI file with its
license, so a bare clone passes its own tests).

ClickBank's JSON writes every scalar as a string and a nil as ``{"@nil": "true"}``
(``shared/reference/clickbank-rest.md``), while the OpenAPI file types them as numbers and
booleans. ``json_validator`` therefore turns each OpenAPI schema into the JSON Schema of its
ClickBank rendering: an integer becomes a string of digits, a number a decimal string, a boolean
``"true"``/``"false"``, a nullable value may also be ``{"@nil": "true"}``, and (stricter than the
file) an object may hold only the properties the file names.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema
import yaml

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "tests" / "contracts"
OPENAPI = CONTRACTS / "open-clickbank.yaml"
XSD_DIR = REPO / "affsrv" / "restapi" / "xsd"
NIL = {"type": "object", "properties": {"@nil": {"const": "true"}}, "required": ["@nil"],
       "additionalProperties": False}


@cache
def xsd(name: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_DIR / name))


@cache
def openapi() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI.read_text())


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return {"$ref": "#/$defs/" + node["$ref"].rsplit("/", 1)[1]}
    kind = node.get("type")
    nullable = bool(node.get("nullable"))
    if "enum" in node:
        values = [v for v in node["enum"] if v != "nil"]
        nullable = nullable or "nil" in node["enum"]
        base: dict[str, Any] = {"type": "string", "enum": values}
    elif kind == "object":
        base = {"type": "object", "additionalProperties": False,
                "properties": {k: _convert(v) for k, v in node.get("properties", {}).items()}}
    elif kind == "array":
        base = {"type": "array", "items": _convert(node["items"])}
    elif kind == "integer":
        base = {"type": "string", "pattern": r"^-?[0-9]+$"}
    elif kind == "number":
        base = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    elif kind == "boolean":
        base = {"type": "string", "enum": ["true", "false"]}
    elif kind == "string":
        base = {"type": "string"}
        if "pattern" in node:
            base["pattern"] = node["pattern"]
    else:
        raise AssertionError(f"unhandled OpenAPI node {node}")
    return {"anyOf": [base, NIL]} if nullable else base


@cache
def _defs() -> dict[str, Any]:
    components = copy.deepcopy(openapi()["components"]["schemas"])
    # The one place the OpenAPI file contradicts the seed: the products XSD types
    # isPartOfOrderBump as a required xs:boolean, the file as a nullable integer. The seed wins.
    components["Product"]["properties"]["isPartOfOrderBump"] = {"type": "boolean"}
    return {name: _convert(schema) for name, schema in components.items()}


def assert_json(body: bytes | str, component: str) -> Any:
    """Parse ``body`` and check it against OpenAPI component ``component`` in its ClickBank
    rendering; returns the parsed document."""
    document = json.loads(body)
    schema = {"$defs": _defs(), "$ref": f"#/$defs/{component}"}
    jsonschema.Draft202012Validator(schema).validate(document)
    return document


def response_schema(path: str, method: str = "get", status: str = "200",
                    media: str = "application/json") -> dict[str, Any]:
    return openapi()["paths"][path][method]["responses"][status]["content"][media]["schema"]


def assert_xml(body: bytes, xsd_name: str, element: str | None = None) -> ET.Element:
    """Parse ``body``; validate it (or each child named ``element``) against the seed XSD."""
    root = ET.fromstring(body)
    schema = xsd(xsd_name)
    targets = [root] if element is None else root.findall(element)
    for target in targets:
        schema.validate(ET.tostring(target))
    return root
