"""The `affsrv` administration commands, run against the test database."""

import os
from decimal import Decimal

import pytest
from sqlalchemy import select

from affsrv.affiliates.models import Affiliate
from affsrv.cli import cli
from affsrv.commissions.models import Commission
from affsrv.extensions import db
from affsrv.payments.models import Payment
from affsrv.products.models import Product
from tests.helpers import add_affiliate, add_product, api
from tests.serving import run_affsrv


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def _last_line(result):
    return result.output.strip().splitlines()[-1]


def test_apikey_create_prints_a_working_key_last(app, run):
    result = run("apikey", "create", "--label", "shop")
    assert result.exit_code == 0
    key = _last_line(result)
    code = add_affiliate(app)
    r = app.test_client().post("/api", json={"apikey": key, "affiliate": code,
                                             "data": {"op": "info"}})
    assert r.status_code == 200
    listing = run("apikey", "list").output
    assert "shop" in listing and key not in listing
    assert run("apikey", "revoke", "1").exit_code == 0
    assert app.test_client().post("/api", json={"apikey": key, "affiliate": code,
                                                "data": {"op": "info"}}).status_code == 403
    assert run("apikey", "revoke", "99").exit_code == 1


def test_affiliate_add_list_approve_disable(app, run):
    result = run("affiliate", "add", "--email", "ann@example.com", "--fname", "Ann",
                 "--lname", "Lee", "--commtier", "17.5", "--pending")
    assert result.exit_code == 0, result.output
    code = _last_line(result)
    with app.app_context():
        affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == code))
        assert affiliate.commtier == Decimal("17.500") and affiliate.approved is False
    result = run("affiliate", "add", "--email", "bob@example.com", "--fname", "Bob",
                 "--lname", "Roe", "--code", "bob_01")
    assert _last_line(result) == "bob_01"
    listing = run("affiliate", "list").output
    assert "ann@example.com" in listing and "17.5%" in listing and "bob_01" in listing
    assert run("affiliate", "approve", code).exit_code == 0
    assert run("affiliate", "disable", "bob_01").exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Affiliate.approved).where(Affiliate.code == code))
        assert not db.session.scalar(select(Affiliate.enabled)
                                     .where(Affiliate.code == "bob_01"))
    assert run("affiliate", "enable", "bob_01").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["affiliate", "add", "--email", "not-an-email", "--fname", "A", "--lname", "B"],
     "email: Not a valid email address."),
    (["affiliate", "add", "--email", "a@b.co", "--fname", "A", "--lname", "B",
      "--code", "bad code!"], "code: use 1-64 letters"),
    # A trailing newline would end up in landing links and cookies.
    (["affiliate", "add", "--email", "a@b.co", "--fname", "A", "--lname", "B",
      "--code", "bob\n"], "code: use 1-64 letters"),
    (["product", "add", "--name", "W", "--url", "https://x.example/", "--sku", "W-1\n"],
     "sku:"),
    (["affiliate", "add", "--email", "a@b.co", "--fname", "A", "--lname", "B",
      "--commtier", "150"], "commtier: must be a percentage from 0 to 100"),
    (["affiliate", "add", "--email", "a@b.co", "--fname", "A", "--lname", "B",
      "--commtier", "lots"], "commtier: Not a valid number."),
    (["affiliate", "add", "--email", "a@b.co"], "Missing option '--fname'"),
    (["affiliate", "approve", "ghost"], "unknown affiliate code 'ghost'"),
    (["product", "add", "--name", "W", "--url", "ftp://x.example/"], "url: Not a valid URL"),
    (["product", "add", "--name", "", "--url", "https://x.example/"], "name:"),
    (["commission", "approve"], "give commission ids, or --all"),
    (["commission", "approve", "5", "--all"], "give commission ids, or --all"),
    (["commission", "approve", "424242"], "no commission with id 424242"),
    (["payment", "add", "--affiliate", "ghost", "--method", "PayPal", "--amount", "5"],
     "unknown affiliate code 'ghost'"),
    # PostgreSQL refuses a label over its column's 100 characters with a driver error.
    (["apikey", "create", "--label", "x" * 101], "label: at most 100 characters (got 101)"),
    (["clerk-key", "add", "--role", "api_order_read", "--site", "s", "--label", "x" * 101],
     "label: at most 100 characters (got 101)"),
])
def test_bad_arguments_give_a_clear_message_and_non_zero_exit(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize("args, largest", [
    (["commission", "approve"], 2**63 - 1),
    (["commission", "reject"], 2**63 - 1),
    (["notify", "retry"], 2**63 - 1),
    (["notify", "remove"], 2**31 - 1),
    (["apikey", "revoke"], 2**31 - 1),
    (["clerk-key", "revoke"], 2**31 - 1),
    (["clerk-key", "add-site"], 2**31 - 1),
    (["clerk-key", "remove-site"], 2**31 - 1),
    (["product", "edit"], 2**31 - 1),
    (["product", "disable"], 2**31 - 1),
    (["product", "enable"], 2**31 - 1),
    (["notify", "add", "--url", "https://hook.example/", "--product"], 2**31 - 1),
    # A cut-off before year 1 (timedelta overflow), as [notifications] keep_days allows.
    (["notify", "prune", "--days"], 36_500),
])
def test_a_number_out_of_range_is_a_usage_error_not_a_traceback(run, args, largest):
    # Beyond its column's range the database driver would fail with a traceback.
    for bad in (str(largest + 1), "0"):
        result = run(*args, bad)
        assert result.exit_code == 2, result.output
        assert "is not in the range" in result.output and "Traceback" not in result.output


def test_duplicate_affiliate_email_is_refused(app, run):
    run("affiliate", "add", "--email", "ann@example.com", "--fname", "A", "--lname", "B")
    result = run("affiliate", "add", "--email", "ann@example.com", "--fname", "A",
                 "--lname", "B")
    assert result.exit_code == 1 and "already exists" in result.output


def test_product_add_prints_id_last_and_it_is_a_data_api_product(app, run, api_key):
    result = run("product", "add", "--name", "E-book", "--url", "https://shop.example/ebook",
                 "--sku", "EBOOK-1", "--rate", "30")
    pid = int(_last_line(result))
    with app.app_context():
        product = db.session.get(Product, pid)
        assert (product.sku, product.commission_rate) == ("EBOOK-1", Decimal("30.000"))
    assert "EBOOK-1" in run("product", "list").output
    code = add_affiliate(app)
    r = api(app.test_client(), api_key, code, commission={"product": pid, "saletotal": "10"})
    assert r.status_code == 200 and r.json["commtotal"] == "3.00"
    assert run("product", "disable", str(pid)).exit_code == 0
    assert run("product", "enable", str(pid)).exit_code == 0


def _pending(app, api_key, n):
    code = add_affiliate(app)
    pid = add_product(app)
    client = app.test_client()
    ids = []
    for i in range(n):
        r = api(client, api_key, code, commission={"product": pid, "saletotal": "10.00",
                                                   "commtotal": f"{i + 1}.00"})
        ids.append(int(r.json["id"]))
    return code, ids


def _statuses(app):
    with app.app_context():
        return dict(db.session.execute(select(Commission.id, Commission.status)).all())


def test_commission_list_approve_reject(app, run, api_key):
    _, ids = _pending(app, api_key, 4)
    listing = run("commission", "list", "--status", "pending").output
    assert all(str(i) in listing for i in ids) and "pending" in listing
    assert run("commission", "approve", str(ids[0]), str(ids[1])).output.strip() == (
        "2 commission(s) approved")
    assert run("commission", "reject", str(ids[2])).exit_code == 0
    statuses = _statuses(app)
    assert [statuses[i] for i in ids] == ["approved", "approved", "rejected", "pending"]
    # Naming one that is not pending changes nothing at all.
    result = run("commission", "approve", str(ids[3]), str(ids[0]))
    assert result.exit_code == 1 and f"not pending: {ids[0]}" in result.output
    assert _statuses(app)[ids[3]] == "pending"
    assert run("commission", "approve", "--all").output.strip() == "1 commission(s) approved"
    assert _statuses(app)[ids[3]] == "approved"


def test_commission_approve_names_every_id_it_refuses(app, run, api_key):
    """The refusal lists each missing or not pending id, in order, so the merchant can fix the
    whole command at once."""
    _, ids = _pending(app, api_key, 3)
    run("commission", "reject", str(ids[0]), str(ids[2]))
    result = run("commission", "approve", "424243", str(ids[1]), "424242")
    assert result.exit_code == 1 and "no commission with id 424242, 424243" in result.output
    result = run("commission", "approve", str(ids[2]), str(ids[1]), str(ids[0]))
    assert result.exit_code == 1 and f"not pending: {ids[0]}, {ids[2]}" in result.output
    assert _statuses(app)[ids[1]] == "pending"


def test_payment_add_prints_id_last_and_settles_commissions(app, run, api_key):
    code, ids = _pending(app, api_key, 3)  # 1.00, 2.00, 3.00
    run("commission", "approve", "--all")
    result = run("payment", "add", "--affiliate", code, "--method", "PayPal",
                 "--amount", "3.50", "--reference", "tx-9")
    assert result.exit_code == 0, result.output
    payment_id = int(_last_line(result))
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.method, payment.amount, payment.reference) == (
            "PayPal", Decimal("3.50"), "tx-9")
        paid = dict(db.session.execute(select(Commission.id, Commission.payment_id)).all())
    # 1.00 + 2.00 fit in 3.50; 3.00 more does not.
    assert [paid[i] for i in ids] == [payment_id, payment_id, None]
    assert "PayPal" in run("payment", "list", "--affiliate", code).output
    data = api(app.test_client(), api_key, code, data={"op": "payments"}).json["data"]
    assert data["PayPal"]["payment_total"] == "3.50"


@pytest.mark.parametrize("amount", ["-5", "0", "$5", "1,000", "abc", "1.234"])
def test_payment_amount_is_validated(app, run, amount):
    code = add_affiliate(app)
    result = run("payment", "add", "--affiliate", code, "--method", "PayPal",
                 "--amount", amount)
    assert result.exit_code == 1 and "amount:" in result.output


def test_an_argument_that_is_not_utf8_is_refused_by_name(tmp_path, server_env):
    """A Latin-1 terminal sends "Café" as the bytes Caf\\xe9: the real `affsrv` command (not
    click's runner, which skips how Python decodes argv) names it instead of a traceback."""
    assert run_affsrv(["db", "upgrade"], tmp_path, server_env).returncode == 0
    latin1 = os.fsdecode(b"Caf\xe9")  # how Python holds those argv bytes
    done = run_affsrv(["product", "add", "--name", latin1, "--url", "https://shop.example/"],
                      tmp_path, server_env)
    assert done.returncode == 2
    assert "Error: the argument b'Caf\\xe9' is not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr
    utf8 = run_affsrv(["product", "add", "--name", "Café", "--url", "https://shop.example/"],
                      tmp_path, server_env)
    assert utf8.returncode == 0 and utf8.stdout.splitlines()[-1] == "1"
