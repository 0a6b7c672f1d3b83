"""``affsrv notify add|list|remove|log|retry``."""

from sqlalchemy import select

from affsrv.extensions import db
from affsrv.notifications.models import Subscription
from tests.clickbank.support import run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import messages


def test_add_list_remove(app):
    add_affiliate(app, code="annie")
    pid = add_product(app)
    merchant = run_cli(app, "notify", "add", "--url", "https://merchant.example/ins",
                       "--secret-key", "MERCHANTKEY1")
    assert merchant.exit_code == 0, merchant.output
    assert "MERCHANTKEY1" not in merchant.output
    generated = run_cli(app, "notify", "add", "--url", "https://annie.example/ins",
                        "--affiliate", "annie")
    key = generated.output.splitlines()[-1]
    assert generated.exit_code == 0 and len(key) == 16 and key.isalnum() and key.isupper()
    product = run_cli(app, "notify", "add", "--url", "https://widget.example/ins",
                      "--secret-key", "WIDGETKEY", "--product", str(pid))
    assert product.exit_code == 0
    with app.app_context():
        subs = list(db.session.scalars(select(Subscription).order_by(Subscription.id)))
        assert [(s.affiliate_id is not None, s.product_id) for s in subs] == [
            (False, None), (True, None), (False, pid)]
        assert subs[1].secret_key == key
    listed = run_cli(app, "notify", "list").output
    assert "https://annie.example/ins" in listed and "MERCHANTKEY1" not in listed
    assert key not in listed
    assert run_cli(app, "notify", "remove", "2").exit_code == 0
    assert "annie.example" not in run_cli(app, "notify", "list").output
    missing = run_cli(app, "notify", "remove", "2")
    assert missing.exit_code == 1 and "no subscription 2" in missing.output


def test_bad_input_is_refused(app):
    for args, message in (
        (["--url", "ftp://x.example/"], "http(s) URL"),
        (["--url", "https://x.example/", "--secret-key", "bad key"], "secret key"),
        (["--url", "https://x.example/", "--secret-key", "KEY1\n"], "secret key"),
        (["--url", "https://x.example/", "--affiliate", "nobody"], "unknown affiliate"),
        (["--url", "https://x.example/", "--product", "999"], "unknown product 999"),
    ):
        result = run_cli(app, "notify", "add", *args)
        assert result.exit_code == 1 and message in result.output, result.output


def test_log_shows_pending_messages_and_removing_drops_them(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code = add_affiliate(app, code="annie")
    run_cli(app, "notify", "add", "--url", "http://127.0.0.1:9/x", "--secret-key", "K1")
    api(app.test_client(), api_key, code, commission={
        "product": add_product(app), "saletotal": "5.00", "commtotal": "1.00", "ref": "L1"})
    log = run_cli(app, "notify", "log").output
    assert "SALE L1" in log and "pending" in log and "subscription 1" in log
    assert run_cli(app, "notify", "retry").exit_code == 2  # ids or --all
    run_cli(app, "notify", "remove", "1")
    assert messages(app) == []
