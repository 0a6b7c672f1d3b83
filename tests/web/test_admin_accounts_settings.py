"""/admin/accounts (ClickBank accounts: add, settings, remove; the secret key never shown
back) and /admin/settings (the configuration in force, secrets hidden)."""

from __future__ import annotations

import pytest

from affsrv.clickbank.services import find_account
from affsrv.config import shown_value
from tests.web.support import csrf_token, merchant_client, post_form
from tests.web.test_portal import affiliate_client

SECRET = "ABCDEF0123456789"


def _account(app, nickname):
    with app.app_context():
        return find_account(nickname)


def test_add_an_account_the_key_never_shown_back(app):
    client = merchant_client(app)
    added = post_form(client, "/admin/accounts", "/admin/accounts", nickname="MyShop",
                      secret_key=SECRET, legacy_cverify="y")
    assert added.status_code == 303
    account = _account(app, "myshop")
    assert (account.nickname, account.secret_key, account.legacy_cverify,
            account.refuse_unknown_skus) == ("myshop", SECRET, True, False)
    listed = client.get("/admin/accounts")
    page = listed.get_data(as_text=True)
    assert "/ins/clickbank/myshop" in page and "create product" in page
    assert SECRET not in page and SECRET not in client.get("/admin/accounts/myshop").text
    # A refused add writes nothing, says why, and does not echo the key typed.
    twice = post_form(client, "/admin/accounts", "/admin/accounts", nickname="myshop",
                      secret_key="OTHERKEY12345678")
    assert twice.status_code == 409 and "already exists" in twice.text
    assert "OTHERKEY12345678" not in twice.text
    bad = post_form(client, "/admin/accounts", "/admin/accounts", nickname="has space",
                    secret_key="KEY-WITH-DASHES")
    assert bad.status_code == 400 and "nickname" in bad.text
    assert "KEY-WITH-DASHES" not in bad.text
    bad_key = post_form(client, "/admin/accounts", "/admin/accounts", nickname="other",
                        secret_key="not letters!")
    assert bad_key.status_code == 400 and "secret key" in bad_key.text
    empty = post_form(client, "/admin/accounts", "/admin/accounts", nickname="other")
    assert empty.status_code == 400 and "This field is required" in empty.text
    assert _account(app, "other") is None


def test_change_an_accounts_settings_and_remove_it(app):
    client = merchant_client(app)
    post_form(client, "/admin/accounts", "/admin/accounts", nickname="myshop",
              secret_key=SECRET)
    page = "/admin/accounts/myshop"
    saved = post_form(client, page, page, legacy_cverify="y", unknown_skus="refuse")
    assert saved.status_code == 303
    account = _account(app, "myshop")
    assert (account.legacy_cverify, account.refuse_unknown_skus) == (True, True)
    assert "stored only" in client.get("/admin/accounts").text
    post_form(client, page, page, unknown_skus="create")  # an unticked box is off
    account = _account(app, "myshop")
    assert (account.legacy_cverify, account.refuse_unknown_skus) == (False, False)
    wrong = post_form(client, page, page, unknown_skus="maybe")
    assert wrong.status_code == 400 and _account(app, "myshop").refuse_unknown_skus is False
    assert client.get("/admin/accounts/nosuch").status_code == 404
    assert post_form(client, page, "/admin/accounts/nosuch/remove").status_code == 404
    removed = post_form(client, page, "/admin/accounts/myshop/remove")
    assert removed.status_code == 303 and _account(app, "myshop") is None


def test_the_configuration_in_force_hides_every_secret(make_app):
    app = make_app(web={"secret_key": "W" * 40, "public_url": "https://aff.shop.example"},
                   mail={"password": "mail-pass-123", "username": "mailer"},
                   limits={"storage_url": "redis://:redis-pass-456@127.0.0.1:6379/0"})
    client = merchant_client(app)
    answer = client.get("/admin/settings")
    assert answer.status_code == 200
    page = answer.text
    for section in ("database", "server", "tracking", "notifications", "mail", "limits",
                    "reports", "web", "logs"):
        assert f"[{section}]" in page
    assert "https://aff.shop.example" in page and "mailer" in page
    assert "<dt>secret_key</dt><dd>set</dd>" in page
    assert "<dt>password</dt><dd>set</dd>" in page
    assert "redis://:***@127.0.0.1:6379/0" in page
    for secret in ("W" * 40, "mail-pass-123", "redis-pass-456"):
        assert secret not in page


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("url", "postgresql://affsrv:db-pass@db.internal:5432/affsrv",
     "postgresql://affsrv:***@db.internal:5432/affsrv"),
    ("url", "postgresql://affsrv@db.internal/affsrv", "postgresql://affsrv@db.internal/affsrv"),
    ("url", "sqlite:///var/affsrv.db", "sqlite:///var/affsrv.db"),
    ("secret_key", "", "not set"),
    ("api_token", "t", "set"),
    ("sentry_dsn", "https://k@o.example/1", "set"),
    ("key_prefix", "affsrv", "affsrv"),
    ("allow_private", [], "(none)"),
    ("require_approval", True, "true"),
])
def test_how_a_setting_is_shown(key, value, shown):
    assert shown_value(key, value) == shown


def test_staff_and_affiliates_cannot_open_the_owners_pages(app):
    post_form(merchant_client(app), "/admin/accounts", "/admin/accounts", nickname="myshop",
              secret_key=SECRET)
    staff = merchant_client(app, role="staff")
    token = csrf_token(staff, "/admin/payouts")
    for path in ("/admin/accounts", "/admin/accounts/myshop", "/admin/settings",
                 "/admin/keys/clerk", "/admin/keys/reporting"):
        assert staff.get(path).status_code == 403, path
    for path in ("/admin/accounts", "/admin/accounts/myshop", "/admin/accounts/myshop/remove",
                 "/admin/keys/clerk", "/admin/keys/reporting", "/admin/keys/clerk/1/revoke",
                 "/admin/keys/reporting/1/revoke"):
        assert staff.post(path, data={"csrf_token": token, "nickname": "x",
                                      "secret_key": SECRET}).status_code == 403, path
    assert _account(app, "myshop") is not None
    nav = staff.get("/admin/affiliates").text
    assert "ClickBank accounts" not in nav and "Configuration" not in nav
    assert "Notifications" in nav  # staff read the subscriptions and their log
    affiliate = affiliate_client(app, "ann", "ann@blog.example")
    for path in ("/admin/accounts", "/admin/settings", "/admin/notifications",
                 "/admin/keys/clerk"):
        answer = affiliate.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_no_page_shows_a_secret(make_app):
    """Every /admin page (read from the app's routes), with an account, a subscription and
    secret settings in place: none of their secrets is in any page's HTML."""
    from tests.helpers import add_affiliate, add_product
    from tests.notifications.support import subscribe
    from tests.web.test_admin_access import ROUTES, SAMPLE

    app = make_app(web={"secret_key": "W" * 40}, mail={"password": "mail-pass-123"})
    add_affiliate(app, code=SAMPLE["code"])
    add_product(app)
    subscribe(app, "https://hooks.example/ins", key="SUBSCRIPTIONKEY0123")
    client = merchant_client(app)
    post_form(client, "/admin/accounts", "/admin/accounts", nickname=SAMPLE["nickname"],
              secret_key=SECRET)
    pages = sorted({path for method, path in ROUTES if method == "GET"})
    assert "/admin/settings" in pages and "/admin/accounts/myshop" in pages
    for path in pages:
        answer = client.get(path, follow_redirects=True)  # /admin/ leads to a page
        assert answer.status_code == 200, path
        for secret in (SECRET, "SUBSCRIPTIONKEY0123", "W" * 40, "mail-pass-123"):
            assert secret not in answer.text, (path, secret)
