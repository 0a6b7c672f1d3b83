"""/admin/keys/clerk and /admin/keys/reporting beside the API keys: a key is shown once, in
that answer only, and works; revoked, it stops working."""

from __future__ import annotations

import re

from affsrv.clerkkeys.services import find_clerk_key
from affsrv.reports.keys import is_valid_report_key
from tests.web.support import merchant_client, post_form

REPORT = "/reports/v1/today"
NEW_KEY = re.compile(r'id="new-key">([^<]+)<')


def _new_key(answer) -> str:
    return NEW_KEY.search(answer.text).group(1)


def test_a_clerk_key_with_roles_and_sites_is_shown_once_and_can_be_revoked(app):
    client = merchant_client(app)
    page = "/admin/keys/clerk"
    created = post_form(client, page, page, roles=["api_order_read", "api_products_client"],
                        sites="MyShop other", label="warehouse")
    assert created.status_code == 200
    header = _new_key(created)
    dev, _, clerk = header.partition(":")
    assert dev.startswith("DEV-") and clerk.startswith("API-")
    with app.app_context():
        record = find_clerk_key(clerk[4:], dev[4:])
        assert record is not None
        assert (record.roles, record.sites, record.label) == (
            "api_order_read api_products_client", frozenset({"myshop", "other"}), "warehouse")
        key_id = record.id
    listed = client.get(page).text
    assert header not in listed and clerk[4:] not in listed and dev[4:] not in listed
    assert "api_order_read api_products_client" in listed and "myshop other" in listed
    assert post_form(client, page, f"{page}/{key_id}/revoke").status_code == 303
    with app.app_context():
        assert find_clerk_key(clerk[4:], dev[4:]) is None
    assert "revoked" in client.get(page).text
    assert post_form(client, page, f"{page}/999/revoke").status_code == 404


def test_a_clerk_key_needs_a_role_and_a_site(app):
    client = merchant_client(app)
    page = "/admin/keys/clerk"
    no_role = post_form(client, page, page, sites="myshop")
    assert no_role.status_code == 400 and "give at least one role" in no_role.text
    no_site = post_form(client, page, page, roles=["api_order_read"], sites="")
    assert no_site.status_code == 400 and "This field is required" in no_site.text
    bad_role = post_form(client, page, page, roles=["root"], sites="myshop")
    assert bad_role.status_code == 400
    bad_site = post_form(client, page, page, roles=["api_order_read"], sites="no/slash")
    assert bad_site.status_code == 400
    for answer in (no_role, no_site, bad_role, bad_site):
        assert 'id="new-key"' not in answer.text
    assert "No keys." in client.get(page).text


def test_a_reporting_key_is_shown_once_and_can_be_revoked(app):
    client = merchant_client(app)
    page = "/admin/keys/reporting"
    created = post_form(client, page, page, label="finance")
    assert created.status_code == 200
    key = _new_key(created)
    assert key.startswith("affsrv_report_")
    with app.app_context():
        assert is_valid_report_key(key)
    listed = client.get(page).text
    assert key not in listed and "finance" in listed
    assert client.get(REPORT, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert post_form(client, page, f"{page}/1/revoke").status_code == 303
    with app.app_context():
        assert not is_valid_report_key(key)
    assert client.get(REPORT, headers={"Authorization": f"Bearer {key}"}).status_code == 403
    too_long = post_form(client, page, page, label="x" * 101)
    assert too_long.status_code == 400 and 'id="new-key"' not in too_long.text
    assert post_form(client, page, f"{page}/999/revoke").status_code == 404


def test_the_keys_pages_link_each_other(app):
    client = merchant_client(app)
    for page in ("/admin/keys", "/admin/keys/clerk", "/admin/keys/reporting"):
        text = client.get(page).text
        assert all(f'href="{other}"' in text for other in
                   ("/admin/keys", "/admin/keys/clerk", "/admin/keys/reporting")), page
