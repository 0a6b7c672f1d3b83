"""The contract checkers themselves catch what they must (so the API tests prove something)."""

import jsonschema
import pytest
import xmlschema

from tests.restapi.contract import assert_json, assert_xml


@pytest.mark.parametrize("document", [
    '{"orderData": [{"receipt": "A", "bogus": "1"}]}',  # a field the file does not name
    '{"orderData": [{"declinedConsent": false}]}',  # a JSON boolean, not "false"
    '{"orderData": [{"totalOrderAmount": 9.99}]}',  # a JSON number, not "9.99"
    '{"orderData": [{"receipt": null}]}',  # null, not {"@nil": "true"}
    '{"orderData": [{"declinedConsent": {"@nil": "true"}}]}',  # nil where not nullable
    '{"orderData": {"receipt": "A"}}',  # an object where the file has an array
])
def test_json_checker_rejects_what_clickbank_clients_would_not_read(document):
    with pytest.raises(jsonschema.ValidationError):
        assert_json(document, "OrderList")


def test_json_checker_accepts_the_clickbank_rendering():
    assert_json('{"orderData": [{"receipt": {"@nil": "true"}, "declinedConsent": "true", '
                '"totalOrderAmount": "9.99", "lineItemData": [{"quantity": "2"}]}]}',
                "OrderList")


def test_xml_checker_enforces_the_seed_xsd():
    with pytest.raises(xmlschema.XMLSchemaValidationError):  # required <digital> missing
        assert_xml(b'<product sku="A"><id>1</id></product>', "products.xsd")
    with pytest.raises(xmlschema.XMLSchemaValidationError):  # not an xs:dateTime
        assert_xml(b"<orderShipData><transactionTime>yesterday</transactionTime>"
                   b"</orderShipData>", "shipping2.xsd")
    assert_xml(b"<orderShipData><receipt>R</receipt></orderShipData>", "shipping2.xsd")
