"""The XML and ClickBank-style JSON writers, and content negotiation through HTTP."""

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

from affsrv.restapi.formats import NIL, XSI, Wrapped, to_json_value, to_xml

TREE = {
    "@sku": "A1",
    "id": 7,
    "flag": True,
    "price": Decimal("9.90"),
    "when": datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC),
    "gone": None,
    "empty": NIL,
    "cats": Wrapped("category", ["EBOOK", "AUDIO"]),
    "line": [{"n": 1}],
}


def test_json_writes_every_scalar_as_a_string_nil_and_attributes_as_clickbank_does():
    assert to_json_value(TREE) == {
        "@sku": "A1", "id": "7", "flag": "true", "price": "9.90",
        "when": "2024-03-01T12:00:05Z", "empty": {"@nil": "true"},
        "cats": [{"category": "EBOOK"}, {"category": "AUDIO"}],
        "line": [{"n": "1"}],  # a single repeated element stays a list
    }


def test_xml_writes_attributes_nil_wrappers_and_repeats():
    root = ET.fromstring(to_xml("product", TREE))
    assert root.tag == "product" and root.get("sku") == "A1"
    assert root.findtext("price") == "9.90" and root.findtext("flag") == "true"
    assert root.find("gone") is None
    assert root.find("empty").get(f"{{{XSI}}}nil") == "true"
    assert [c.text for c in root.find("cats")] == ["EBOOK", "AUDIO"]
    assert root.find("line").findtext("n") == "1"


def test_xml_and_json_drop_characters_xml_cannot_carry():
    root = ET.fromstring(to_xml("x", {"name": "a\x00b\x1fc\ud800d"}))
    assert root.findtext("name") == "abcd"
    body = json.dumps(to_json_value({"name": "a\ud800b"}), ensure_ascii=False).encode()
    assert json.loads(body) == {"name": "ab"}


def test_no_accept_and_any_type_answer_xml(rest, app):
    for headers in ({"Accept": ""}, {"Accept": "*/*"}, {"Accept": "application/*"}):
        r = rest("GET", "orders2/list", headers=headers)
        assert r.status_code == 200 and r.mimetype == "application/xml", headers
        ET.fromstring(r.data)


def test_accept_json_answers_json_and_q_values_are_honoured(rest):
    r = rest("GET", "orders2/list")
    assert r.mimetype == "application/json" and json.loads(r.data) == {"orderData": []}
    r = rest("GET", "orders2/list",
             headers={"Accept": "application/xml;q=0.5, application/json;q=0.9"})
    assert r.mimetype == "application/json"


def test_an_accept_type_the_method_cannot_produce_is_406_plain_text(rest, client):
    for path in ("orders2/list", "shipping2/list", "products/list", "orders2/count"):
        r = rest("GET", path, headers={"Accept": "text/html"}, site="s")
        assert r.status_code == 406 and r.mimetype == "text/plain", path
    # The schema endpoints answer XML only.
    r = client.get("/rest/1.3/products/schema", headers={"Accept": "application/json"})
    assert r.status_code == 406
