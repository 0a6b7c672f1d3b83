"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from affsrv import create_app
from affsrv.extensions import db
from tests.conftest import BASE_URL, _is_postgres, create_postgres_database


def _new_database(tmp_path, name):
    """A new database without any table, and how to drop it (on PostgreSQL)."""
    if _is_postgres(BASE_URL):
        return create_postgres_database(BASE_URL)
    return f"sqlite:///{tmp_path / name}", lambda: None


@pytest.fixture
def empty_url(tmp_path):
    """A new database without any table (on PostgreSQL, dropped afterwards)."""
    url, drop = _new_database(tmp_path, "fresh.db")
    yield url
    drop()


def _app(url, tmp_path):
    return create_app(overrides={"database": {"url": url},
                                 "logs": {"dir": str(tmp_path / "logs")}})


def test_upgrade_from_empty_matches_the_models(empty_url, tmp_path):
    app = _app(empty_url, tmp_path)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
            tables = set(inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == []
    assert {"affiliates", "products", "clicks", "commissions", "payments",
            "api_keys", "orders", "order_line_items"} <= tables


def _index_definitions(url, tmp_path):
    """Every index's definition as the database states it (PostgreSQL's ``pg_indexes``,
    INCLUDE columns and all; SQLite's ``sqlite_master``), by name."""
    app = _app(url, tmp_path)
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        else:
            rows = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        definitions = {name: sql for name, sql in rows if "alembic_version" not in name}
    with app.app_context():
        db.engine.dispose()
    return definitions


def test_upgrade_builds_every_index_as_the_models_declare_it(empty_url, tmp_path):
    """Alembic's comparison (above) does not look at an index's INCLUDE columns: the
    definitions the migrations leave must equal those ``create_all`` makes from the models
    (the covering index the affiliate's reports read, for one)."""
    app = _app(empty_url, tmp_path)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    migrated = _index_definitions(empty_url, tmp_path)
    models_url, drop = _new_database(tmp_path, "models.db")
    try:
        app = _app(models_url, tmp_path)
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        declared = _index_definitions(models_url, tmp_path)
    finally:
        drop()
    covering = "ix_report_clicks_q_affiliate_id_bucket"
    assert covering in declared
    if _is_postgres(BASE_URL):
        assert "INCLUDE (clicks)" in declared[covering]
    assert migrated == declared


def test_referral_links_migration_keeps_every_clicks_link(empty_url, tmp_path):
    """Clicks recorded before referral links existed keep their link, up and down again."""
    from flask_migrate import downgrade
    from sqlalchemy import text

    links = ["", "https://blog.example/a", "https://blog.example/\u00e9t\u00e9"]
    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="acfd259baf3f")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO affiliates (id, code, fname, lname, email, ip, payinfo, notes, "
                "approved, enabled, extra, created_at) VALUES (1, 'a', 'A', 'B', 'a@x.example',"
                " '', '', '', :yes, :yes, '{}', '2026-01-01 00:00:00')"), {"yes": True})
            for n, link in enumerate(links * 2):
                conn.execute(text(
                    "INSERT INTO clicks (id, affiliate_id, link, ip, user_agent, created_at) "
                    "VALUES (:id, 1, :link, '', '', '2026-01-01 00:00:00')"),
                    {"id": n + 1, "link": link})
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT url, id FROM referral_links")).all())
            clicks = conn.execute(text(
                "SELECT c.id, l.url FROM clicks c JOIN referral_links l ON l.id = c.link_id "
                "ORDER BY c.id")).all()
        assert sorted(stored) == sorted(links)
        assert [url for _, url in clicks] == links * 2
        downgrade(directory=directory, revision="acfd259baf3f")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT link FROM clicks ORDER BY id")).scalars().all()
        assert back == links * 2
        db.engine.dispose()


def test_orders_stored_before_caseless_search_get_their_folded_copies(empty_url, tmp_path):
    """Orders written before the folded columns existed are found by the caseless filters."""
    from datetime import datetime

    from sqlalchemy import MetaData, String, Table

    from affsrv.clerkkeys.services import ROLES, create_clerk_key

    when = datetime(2026, 1, 1)
    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="1ffa6b197ddb")
        with db.engine.begin() as conn:
            # The table as that revision made it: every text column blank but these.
            orders = Table("orders", MetaData(), autoload_with=conn)
            blank = {c.name: "" for c in orders.c if isinstance(c.type, String)}
            conn.execute(orders.insert(), [
                {**blank, "id": n + 1, "receipt": f"R{n}", "transaction_type": "SALE",
                 "account": "shopa", "vendor": "ShopA", "affiliate_nickname": name.upper(),
                 "billing_last_name": name, "billing_email": f"{name}@Example.com",
                 "transaction_time": when, "created_at": when, "utc_offset_minutes": 0,
                 "declined_consent": False, "is_test": False, "physical": False,
                 "tracking_codes": [], "vendor_variables": {}}
                for n, name in enumerate(["MÜLLER", "straße", "Lee"])
            ])
        upgrade(directory=directory)
        key = create_clerk_key(ROLES, "tests", sites=["shopa"])[1]
    client = app.test_client()
    headers = {"Authorization": key, "Accept": "application/json"}

    def found(**params):
        r = client.get("/rest/1.3/orders2/list", headers=headers, query_string=params)
        assert r.status_code == 200, r.data
        return [o["receipt"] for o in r.json["orderData"]]

    assert found(lastName="müller") == ["R0"]
    assert found(lastName="STRASSE") == ["R1"]
    assert found(email="straße@example.COM") == ["R1"]
    assert found(affiliate="lee") == ["R2"]
    assert found(vendor="shopa") == ["R0", "R1", "R2"]
    with app.app_context():
        db.engine.dispose()


def _affiliates_with_aliases(aliases):
    """Affiliates a1, a2, ... with these ClickBank aliases, written as the schema stands."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        for n, alias in enumerate(aliases, start=1):
            conn.execute(text(
                "INSERT INTO affiliates (id, code, fname, lname, email, ip, payinfo, notes, "
                "approved, enabled, extra, created_at, clickbank_nickname) VALUES (:id, :code, "
                "'A', 'B', :email, '', '', '', :yes, :yes, '{}', '2026-01-01 00:00:00', :alias)"),
                {"id": n, "code": f"a{n}", "email": f"a{n}@x.example", "yes": True,
                 "alias": alias})


def test_clickbank_aliases_are_put_in_lower_case(empty_url, tmp_path):
    from sqlalchemy import text

    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="7c2f4e9a1b3d")
        _affiliates_with_aliases(["AnnCB77", "zed", None])
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            aliases = conn.execute(text(
                "SELECT code, clickbank_nickname FROM affiliates ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(row) for row in aliases] == [("a1", "anncb77"), ("a2", "zed"), ("a3", None)]


def test_aliases_differing_only_in_case_stop_the_upgrade_with_what_to_do(empty_url, tmp_path,
                                                                          caplog):
    from affsrv.cli import cli

    app = _app(empty_url, tmp_path)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="7c2f4e9a1b3d")
        _affiliates_with_aliases(["Bob", "bob", "Zed"])
        db.engine.dispose()
    result = app.test_cli_runner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    # Flask-Migrate logs the migration's error ("Error: ...") and exits 1.
    [message] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Error:")]
    assert "'bob': affiliates a1, a2" in message and "Zed" not in message
    assert "affsrv affiliate alias CODE --clickbank ''" in message


def test_clicks_recorded_before_click_counts_are_counted(empty_url, tmp_path):
    from flask_migrate import downgrade
    from sqlalchemy import text

    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="9d3b5a7c2e1f")
        _affiliates_with_aliases([None, None])
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO referral_links (id, digest, url, created_at) VALUES "
                "(1, :one, 'https://a.example/', '2026-01-01 00:00:00'), "
                "(2, :two, 'https://b.example/', '2026-01-01 00:00:00')"),
                {"one": b"1" * 32, "two": b"2" * 32})
            for affiliate, link in [(1, 1), (1, 1), (1, 2), (2, 1)]:
                conn.execute(text(
                    "INSERT INTO clicks (affiliate_id, product_id, link_id, ip, user_agent, "
                    "created_at) VALUES (:a, NULL, :l, '', '', '2026-01-01 00:00:00')"),
                    {"a": affiliate, "l": link})
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            counts = conn.execute(text(
                "SELECT affiliate_id, product_id, link_id, clicks FROM click_counts "
                "ORDER BY affiliate_id, link_id")).all()
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("clicks")}
        assert [tuple(row) for row in counts] == [(1, 0, 1, 2), (1, 0, 2, 1), (2, 0, 1, 1)]
        assert indexes == set()  # no query reads the clicks any more
        downgrade(directory=directory, revision="9d3b5a7c2e1f")
        with db.engine.connect() as conn:
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("clicks")}
            tables = set(inspect(conn).get_table_names())
        assert "ix_clicks_affiliate_product_link" in indexes and "click_counts" not in tables
        db.engine.dispose()


_UPGRADE_AT = """
import sys, time
from flask_migrate import upgrade
from affsrv import create_app
app = create_app()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # imports done: start together
with app.app_context():
    upgrade(directory=app.extensions["migrate"].directory)
"""


def test_servers_starting_together_on_a_new_database_all_upgrade_it(empty_url, tmp_path):
    """`affsrv serve` upgrades the schema first, so servers started at once on a new database
    run the migrations at the same moment: each must come up (on PostgreSQL the later ones
    used to fail creating a table the first had just made)."""
    import subprocess
    import sys
    import time

    from tests.serving import clean_env

    env = clean_env(AFFSRV_DATABASE_URL=empty_url, AFFSRV_LOGS_DIR=str(tmp_path / "logs"))
    start = str(time.time() + 4)
    runs = [subprocess.Popen([sys.executable, "-c", _UPGRADE_AT, start], env=env,
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    app = _app(empty_url, tmp_path)
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        heads = MigrationContext.configure(conn).get_current_heads()
    with app.app_context():
        db.engine.dispose()
    assert diff == [] and len(heads) == 1


def test_keys_made_before_sites_belong_to_none_and_disabled_products_stay_disabled(
        empty_url, tmp_path, capfd):
    """Upgrading: an existing clerk key gets no site (refused, saying what to do); a product
    disabled before the upgrade counts as disabled by the merchant; sites go to lower case."""
    from sqlalchemy import text

    from affsrv.keyhash import hash_key

    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="e4a7c1d2b9f0")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO clerk_keys (id, key_hash, dev_key_hash, prefix, roles, label, "
                "created_at) VALUES (1, :key, :dev, 'OLDKEY00', 'api_order_read "
                "api_products_client', 'old', '2026-01-01 00:00:00')"),
                {"key": hash_key("OLDKEY00X"), "dev": hash_key("OLDDEV")})
            for pid, enabled, site in ((1, True, "MyShop"), (2, False, None)):
                conn.execute(text(
                    "INSERT INTO products (id, name, landing_url, enabled, sku, site, "
                    "created_at, currency, categories, digital, digital_recurring, physical, "
                    "physical_recurring, pre_rebill_override, skip_confirmation_page) VALUES "
                    "(:id, 'P', 'https://shop.example/', :enabled, :sku, :site, "
                    "'2026-01-01 00:00:00', 'USD', '[]', :no, :no, :no, :no, :no, :no)"),
                    {"id": pid, "enabled": enabled, "sku": f"S{pid}", "site": site,
                     "no": False})
        capfd.readouterr()
        upgrade(directory=directory)
        notice = capfd.readouterr().err
        with db.engine.connect() as conn:
            products = conn.execute(text(
                "SELECT id, site, enabled, disabled_by_merchant FROM products ORDER BY id"
            )).all()
            sites = conn.execute(text("SELECT count(*) FROM clerk_key_sites")).scalar()
        db.engine.dispose()
    assert "1 clerk key(s) now belong to no site" in notice
    assert "affsrv clerk-key add-site KEY_ID SITE" in notice
    assert [tuple(row) for row in products] == [(1, "myshop", True, False),
                                                (2, None, False, True)]
    assert sites == 0
    r = app.test_client().get("/rest/1.3/orders2/count",
                              headers={"Authorization": "API-OLDKEY00X"})
    assert r.status_code == 403 and "belongs to no site" in r.get_data(as_text=True)
    from affsrv.cli import cli

    listed = app.test_cli_runner().invoke(cli, ["clerk-key", "list"]).output
    assert "(none: refused until a site is added)" in listed
    with app.app_context():
        db.engine.dispose()


def test_accounts_existing_before_the_cverify_setting_keep_legacy_posts(empty_url, tmp_path):
    """Merchants whose accounts predate the setting may still receive legacy posts: theirs are
    on; an account added afterwards starts off."""
    from sqlalchemy import text

    from affsrv.clickbank.services import add_account, list_accounts

    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="e4a7c1d2b9f0")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO clickbank_accounts (nickname, secret_key, created_at) "
                "VALUES ('oldvendor', 'KEY1', '2026-01-01 00:00:00')"))
        upgrade(directory=directory)
        add_account("newvendor", "KEY2")
        assert {a.nickname: a.legacy_cverify for a in list_accounts()} == {
            "oldvendor": True, "newvendor": False}
        db.session.remove()
        db.engine.dispose()


def test_commissions_and_payments_stored_before_their_totals_are_summed(empty_url, tmp_path):
    """Migration f3b8d2c6a1e7 sums the rows already stored into commission_totals and
    payment_totals (approved commissions only, a negative twin counting -1, per currency)
    and leaves triggers that keep them from then on; downgraded, both are gone."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from flask_migrate import downgrade
    from sqlalchemy import insert, text

    from affsrv.commissions.models import Commission
    from affsrv.payments.models import Payment
    from affsrv.products.models import Product

    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, 12, 30, tzinfo=UTC)
    app = _app(empty_url, tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="f3b8d2c6a1e7-1")  # just before the totals
        _affiliates_with_aliases([None, None])
        with db.engine.begin() as conn:
            conn.execute(insert(Product.__table__), [
                dict(id=product, name="P", landing_url="https://shop.example/")
                for product in (1, 2)])
            money = Decimal

            def commission(**values):  # every row names every column (one executemany)
                return {"kind": "sale", "currency": "USD", "order_ref": None, **values}

            conn.execute(insert(Commission.__table__), [commission(**row) for row in [
                dict(affiliate_id=1, product_id=1, status="approved", sale_total=money("40.00"),
                     commission_total=money("10.00"), created_at=t1, order_ref="o1"),
                dict(affiliate_id=1, product_id=1, status="approved", sale_total=money("3.33"),
                     commission_total=money("1.11"), created_at=t2, order_ref="o2"),
                dict(affiliate_id=1, product_id=1, status="approved", kind="reversal",
                     sale_total=money("-3.33"), commission_total=money("-1.11"),
                     created_at=t1, order_ref="o2"),
                dict(affiliate_id=1, product_id=1, status="pending", sale_total=money("9.00"),
                     commission_total=money("1.00"), created_at=t2, order_ref="o3"),
                dict(affiliate_id=1, product_id=2, status="reversed", sale_total=money("9.00"),
                     commission_total=money("1.00"), created_at=t2, order_ref="o4"),
                dict(affiliate_id=2, product_id=2, status="approved", currency="EUR",
                     sale_total=money("5.00"), commission_total=money("0.50"), created_at=t1,
                     order_ref=None),
            ]])
            conn.execute(insert(Payment.__table__), [
                dict(affiliate_id=1, method="PayPal", amount=money("1.10"), currency="USD",
                     created_at=t1),
                dict(affiliate_id=1, method="PayPal", amount=money("2.20"), currency="USD",
                     created_at=t2),
                dict(affiliate_id=2, method="Stripe", amount=money("3.90"), currency="EUR",
                     created_at=t2),
            ])
        upgrade(directory=directory)

        def totals():
            with db.engine.connect() as conn:
                return (
                    [tuple(row) for row in conn.execute(text(
                        "SELECT affiliate_id, currency, product_id, commissions, sale_total, "
                        "commission_total, approved_rows FROM commission_totals "
                        "ORDER BY affiliate_id, currency, product_id"))],
                    [tuple(row) for row in conn.execute(text(
                        "SELECT affiliate_id, currency, method, payments, total "
                        "FROM payment_totals ORDER BY affiliate_id, currency, method"))],
                )

        sqlite = db.engine.dialect.name == "sqlite"
        cents = (lambda n: int(Decimal(n) * 100)) if sqlite else Decimal  # as stored
        assert totals() == (
            [(1, "USD", 1, 1, cents("40.00"), cents("10.00"), 3),
             (2, "EUR", 2, 1, cents("5.00"), cents("0.50"), 1)],
            [(1, "USD", "PayPal", 2, cents("3.30")), (2, "EUR", "Stripe", 1, cents("3.90"))],
        )
        with db.engine.begin() as conn:  # the triggers keep them from now on
            conn.execute(insert(Commission.__table__).values(
                affiliate_id=1, product_id=1, status="approved", sale_total=Decimal("1.00"),
                commission_total=Decimal("0.10"), created_at=t2, order_ref="o5"))
        assert totals()[0][0] == (1, "USD", 1, 2, cents("41.00"), cents("10.10"), 4)
        downgrade(directory=directory, revision="f3b8d2c6a1e7-1")  # before the totals
        with db.engine.begin() as conn:
            conn.execute(insert(Payment.__table__).values(
                affiliate_id=1, method="PayPal", amount=Decimal("1.00"), created_at=t2))
            tables = set(inspect(conn).get_table_names())
        assert not {"commission_totals", "payment_totals"} & tables
        db.engine.dispose()
