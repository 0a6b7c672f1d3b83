"""``affsrv clerk-key add|list|revoke``."""

from sqlalchemy import select

from affsrv.clerkkeys.models import ClerkKey
from affsrv.cli import cli
from affsrv.extensions import db


def _run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def test_add_prints_the_header_value_last_and_stores_only_hashes(app):
    r = _run(app, "clerk-key", "add", "--role", "api_order_read", "--role",
             "api_products_client", "--site", "MyShop", "--site", "other.shop", "--label", "shop")
    assert r.exit_code == 0, r.output
    header = r.output.strip().splitlines()[-1]
    dev, api = header.split(":")
    assert dev.startswith("DEV-") and api.startswith("API-")
    with app.app_context():
        key = db.session.scalar(select(ClerkKey))
        assert key.roles == "api_order_read api_products_client" and key.label == "shop"
        assert key.sites == {"myshop", "other.shop"}
        stored = " ".join([key.key_hash, key.dev_key_hash, key.prefix, key.roles, key.label])
        assert api[4:] not in stored and dev[4:] not in stored
    r = app.test_client().get("/rest/1.3/orders2/count", headers={"Authorization": header})
    assert r.status_code == 200


def test_unknown_or_no_role_or_no_or_bad_site_is_refused(app):
    assert _run(app, "clerk-key", "add", "--role", "admin", "--site", "s").exit_code != 0
    assert _run(app, "clerk-key", "add", "--site", "s").exit_code != 0
    r = _run(app, "clerk-key", "add", "--role", "api_order_read")
    assert r.exit_code == 2 and "--site" in r.output
    for bad in ("", "my shop", "x" * 65, "shop/a"):
        r = _run(app, "clerk-key", "add", "--role", "api_order_read", "--site", bad)
        assert r.exit_code == 1 and "ClickBank account nickname" in r.output, bad
    with app.app_context():
        assert db.session.scalar(select(ClerkKey)) is None


def test_list_and_revoke(app):
    header = _run(app, "clerk-key", "add", "--role", "api_order_read", "--site",
                  "myshop").output.split()[-1]
    listed = _run(app, "clerk-key", "list").output
    assert "api_order_read" in listed and header.split(":")[1][4:] not in listed
    assert "myshop" in listed
    assert _run(app, "clerk-key", "revoke", "1").exit_code == 0
    r = app.test_client().get("/rest/1.3/orders2/count", headers={"Authorization": header})
    assert r.status_code == 403
    assert _run(app, "clerk-key", "revoke", "99").exit_code == 1


def test_sites_are_added_and_removed_and_a_key_left_with_none_is_refused(app):
    header = _run(app, "clerk-key", "add", "--role", "api_order_read", "--site",
                  "shopa").output.split()[-1]
    client = app.test_client()

    def count():
        return client.get("/rest/1.3/orders2/count", headers={"Authorization": header})

    r = _run(app, "clerk-key", "add-site", "1", "ShopB", "shopc")
    assert r.exit_code == 0 and "shopa shopb shopc" in r.output
    assert _run(app, "clerk-key", "add-site", "1", "shopb").exit_code == 0  # already has it
    r = _run(app, "clerk-key", "remove-site", "1", "shopa", "shopb")
    assert r.exit_code == 0 and r.output.strip().endswith("sites: shopc")
    assert count().status_code == 200
    r = _run(app, "clerk-key", "remove-site", "1", "shopz")
    assert r.exit_code == 1 and "has no site shopz" in r.output
    r = _run(app, "clerk-key", "remove-site", "1", "shopc")
    assert r.exit_code == 0 and "(none: refused until a site is added)" in r.output
    assert "(none: refused until a site is added)" in _run(app, "clerk-key", "list").output
    r = count()
    assert r.status_code == 403 and r.mimetype == "text/plain"
    assert "belongs to no site" in r.get_data(as_text=True)
    assert "affsrv clerk-key add-site KEY_ID SITE" in r.get_data(as_text=True)
    assert _run(app, "clerk-key", "add-site", "1", "shopa").exit_code == 0
    assert count().status_code == 200
    assert _run(app, "clerk-key", "add-site", "99", "shopa").exit_code == 1
    assert _run(app, "clerk-key", "add-site", "1").exit_code == 2
