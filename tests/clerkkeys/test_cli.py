"""``affsrv clerk-key add|list|revoke``."""

from sqlalchemy import select

from affsrv.clerkkeys.models import ClerkKey
from affsrv.cli import cli
from affsrv.extensions import db


def _run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def test_add_prints_the_header_value_last_and_stores_only_hashes(app):
    r = _run(app, "clerk-key", "add", "--role", "api_order_read", "--role",
             "api_products_client", "--label", "shop")
    assert r.exit_code == 0, r.output
    header = r.output.strip().splitlines()[-1]
    dev, api = header.split(":")
    assert dev.startswith("DEV-") and api.startswith("API-")
    with app.app_context():
        key = db.session.scalar(select(ClerkKey))
        assert key.roles == "api_order_read api_products_client" and key.label == "shop"
        stored = " ".join([key.key_hash, key.dev_key_hash, key.prefix, key.roles, key.label])
        assert api[4:] not in stored and dev[4:] not in stored
    r = app.test_client().get("/rest/1.3/orders2/count", headers={"Authorization": header})
    assert r.status_code == 200


def test_unknown_or_no_role_is_refused(app):
    assert _run(app, "clerk-key", "add", "--role", "admin").exit_code != 0
    assert _run(app, "clerk-key", "add").exit_code != 0


def test_list_and_revoke(app):
    header = _run(app, "clerk-key", "add", "--role", "api_order_read").output.split()[-1]
    listed = _run(app, "clerk-key", "list").output
    assert "api_order_read" in listed and header.split(":")[1][4:] not in listed
    assert _run(app, "clerk-key", "revoke", "1").exit_code == 0
    r = app.test_client().get("/rest/1.3/orders2/count", headers={"Authorization": header})
    assert r.status_code == 403
    assert _run(app, "clerk-key", "revoke", "99").exit_code == 1
