"""``affsrv notify add|list|remove|log|retry``."""

from sqlalchemy import select

from affsrv.extensions import db
from affsrv.notifications.models import Subscription
from tests.clickbank.support import Receiver, run_cli
from tests.helpers import add_affiliate, add_product, api
from tests.notifications.support import opened, run_due


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


def test_log_shows_pending_messages(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code = add_affiliate(app, code="annie")
    run_cli(app, "notify", "add", "--url", "http://127.0.0.1:9/x", "--secret-key", "K1")
    api(app.test_client(), api_key, code, commission={
        "product": add_product(app), "saletotal": "5.00", "commtotal": "1.00", "ref": "L1"})
    log = run_cli(app, "notify", "log").output
    assert "SALE L1" in log and "pending" in log and "subscription 1" in log
    assert run_cli(app, "notify", "retry").exit_code == 2  # ids or --all


def test_remove_keeps_the_delivery_history_and_sends_nothing_more(make_app, api_key):
    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    code, pid = add_affiliate(app, code="annie"), add_product(app)
    client = app.test_client()

    def sale(ref):
        assert api(client, api_key, code, commission={
            "product": pid, "saletotal": "5.00", "commtotal": "1.00", "ref": ref,
        }).status_code == 200

    receiver = Receiver()
    with receiver.running():
        added = run_cli(app, "notify", "add", "--url", receiver.url, "--secret-key", "K1")
        assert added.exit_code == 0, added.output
        sale("H1")
        assert run_due(app) == 1 and len(receiver.bodies) == 1  # delivered
        sale("H2")  # waiting when the receiver is removed
        removed = run_cli(app, "notify", "remove", "1")
        assert removed.exit_code == 0 and "subscription 1 removed" in removed.output
        sale("H3")  # after the removal: nothing is queued for it
        run_cli(app, "notify", "retry", "--all")  # not even a retry reaches it
        run_due(app)
        assert [opened(b, "K1")["receipt"] for b in receiver.bodies] == ["H1"]

    log = run_cli(app, "notify", "log", "--subscription", "1").output.splitlines()
    rows = [line for line in log if "SALE" in line]
    assert len(rows) == 2, log
    assert "SALE H2" in rows[0] and "failed" in rows[0] and "subscription was removed" in rows[0]
    assert "SALE H1" in rows[1] and "delivered" in rows[1]
    assert "H3" not in "\n".join(log)
    assert receiver.url not in run_cli(app, "notify", "list").output
    listed = run_cli(app, "notify", "list", "--removed").output
    assert receiver.url in listed
    again = run_cli(app, "notify", "remove", "1")
    assert again.exit_code == 1 and "no subscription 1" in again.output
