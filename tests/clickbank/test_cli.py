"""``affsrv account add|list|remove``: the key is stored for decryption, never shown."""

from pathlib import Path

from tests.clickbank.support import SECRET, notification, post_ins, run_cli


def test_account_add_list_remove(app):
    added = run_cli(app, "account", "add", "--nickname", "MyVendor", "--secret-key", SECRET)
    assert added.exit_code == 0, added.output
    assert added.output.splitlines()[-1] == "/ins/clickbank/myvendor"
    # The stored key decrypts what ClickBank sends (the nickname is case-insensitive).
    assert post_ins(app.test_client(), notification(), account="MyVendor").status_code == 200
    listed = run_cli(app, "account", "list")
    assert "myvendor" in listed.output and SECRET not in listed.output
    again = run_cli(app, "account", "add", "--nickname", "myvendor", "--secret-key", "X1")
    assert again.exit_code == 1 and "already exists" in again.output
    assert run_cli(app, "account", "remove", "myvendor").exit_code == 0
    assert "myvendor" not in run_cli(app, "account", "list").output
    assert post_ins(app.test_client(), notification(receipt="R2")).status_code == 400
    gone = run_cli(app, "account", "remove", "myvendor")
    assert gone.exit_code == 1 and "unknown account" in gone.output


def test_bad_key_or_nickname_refused(app):
    r = run_cli(app, "account", "add", "--nickname", "ok", "--secret-key", "has space")
    assert r.exit_code == 1 and "secret key" in r.output
    r = run_cli(app, "account", "add", "--nickname", "bad/name", "--secret-key", "ABC")
    assert r.exit_code == 1 and "nickname" in r.output
    # A trailing newline (a pasted value) is not part of a valid key. (Nicknames are trimmed.)
    r = run_cli(app, "account", "add", "--nickname", "ok", "--secret-key", "ABC\n")
    assert r.exit_code == 1 and "secret key" in r.output
    assert "ok" not in run_cli(app, "account", "list").output


def test_secret_key_never_reaches_the_logs(make_app):
    app = make_app(logs={"api": True})
    run_cli(app, "account", "add", "--nickname", "myvendor", "--secret-key", SECRET)
    post_ins(app.test_client(), notification(), secret="WRONGKEY1")
    post_ins(app.test_client(), notification())
    logs = Path(app.config["AFFSRV"]["logs"]["dir"])
    text = "".join(p.read_text() for p in logs.glob("*.log"))
    assert "ins notification refused" in text and SECRET not in text
