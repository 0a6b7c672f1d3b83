"""``click_counts``: the `referrals` op's counts, kept in the transaction that writes clicks,
whichever way they come (landing links through the buffer, the API's referrer call)."""

import threading

from sqlalchemy import func, select, text

from affsrv.extensions import db
from affsrv.tracking.models import Click, ClickCount
from tests.helpers import add_affiliate, add_product, api


def _counts(app):
    with app.app_context():
        return {tuple(row[:3]): row[3] for row in db.session.execute(
            select(ClickCount.affiliate_id, ClickCount.product_id, ClickCount.link_id,
                   ClickCount.clicks))}


def _clicks_grouped(app):
    with app.app_context():
        product = func.coalesce(Click.product_id, 0)
        return {tuple(row[:3]): row[3] for row in db.session.execute(
            select(Click.affiliate_id, product, Click.link_id, func.count())
            .group_by(Click.affiliate_id, product, Click.link_id))}


def test_counts_match_the_clicks_written_every_way(make_app, api_key):
    app = make_app(tracking={"click_flush_ms": 60000, "click_flush_max": 100000})
    codes = [add_affiliate(app) for _ in range(3)]
    products = [add_product(app, name=f"P{n}") for n in range(2)]
    client = app.test_client()
    for flush in range(2):  # the second flush adds to rows the first made
        for n in range(24):
            product = f"?p={products[n % 2]}" if n % 3 else ""
            client.get(f"/r/{codes[n % 3]}{product}",
                       headers={"Referer": f"https://blog.example/{n % 4}"})
        assert app.extensions["click_buffer"].flush() == 24, flush
    for n in range(5):
        answer = api(client, api_key, codes[0], referrer={
            "url": f"https://blog.example/{n % 2}", "product": products[0] if n else None})
        assert answer.get_json()["status"] == "ok", answer.get_json()
    counts = _counts(app)
    assert counts == _clicks_grouped(app)
    assert sum(counts.values()) == 53
    assert any(product == 0 for _, product, _ in counts)  # clicks naming no product

    answer = api(client, api_key, codes[0], data={"op": "referrals"}).get_json()
    reported = sum(int(ref["count"]) for item in answer["data"].values()
                   for ref in item["referrers"])
    with app.app_context():
        aid = db.session.scalar(text("SELECT id FROM affiliates WHERE code = :c"), {"c": codes[0]})
    assert reported == sum(n for (a, _, _), n in counts.items() if a == aid)


def test_workers_flushing_the_same_counts_at_once_lose_none(make_app, _schema):
    """Two apps (two workers), two threads each, add to the same counters at the same moment,
    in opposite orders (rows are locked in one order, so PostgreSQL finds no deadlock)."""
    first = make_app()
    codes = [add_affiliate(first) for _ in range(2)]
    product = add_product(first)
    apps = [first, make_app()]
    barrier = threading.Barrier(len(apps) * 2)
    errors = []

    def flush_clicks(app, reverse):
        from affsrv.affiliates.directory import find_affiliate
        from affsrv.db.types import utcnow

        try:
            with app.test_request_context():
                ids = [find_affiliate(code).id for code in codes]
            rows = [(ids[n % 2], product if n % 3 else None, f"https://race.example/{n % 5}",
                     "", "", utcnow()) for n in range(300)]
            barrier.wait(timeout=10)
            with app.app_context():
                for _ in range(5):
                    app.extensions["click_buffer"]._write(rows[::-1] if reverse else rows)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=flush_clicks, args=(app, reverse))
               for app in apps for reverse in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    counts = _counts(first)
    assert sum(counts.values()) == 4 * 5 * 300
    assert counts == _clicks_grouped(first)


def test_referrals_is_answered_from_the_counts(app, client, api_key):
    """The op reads one row per product and link, never the clicks themselves (counting them
    took time in proportion to an affiliate's clicks)."""
    code = add_affiliate(app)
    for _ in range(3):
        api(client, api_key, code, referrer={"url": "https://blog.example/a"})
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM clicks"))
    answer = api(client, api_key, code, data={"op": "referrals"}).get_json()
    assert answer["data"] == {"0": {"referrers": [{"count": "3",
                                                   "link": "https://blog.example/a"}]}}


def test_an_affiliates_counts_are_read_from_one_b_tree(app):
    """One affiliate's rows are scattered over a table's pages (added over time), so
    `referrals` must read them from the primary key's b-tree alone: on SQLite the table is
    that b-tree (WITHOUT ROWID); PostgreSQL's primary key holds the count too (index-only)."""
    from affsrv.tracking.services import _REFERRAL_COUNTS

    with app.app_context(), db.engine.connect() as conn:
        sql = str(_REFERRAL_COUNTS.compile(dialect=conn.dialect))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            plan = [row[0] for row in conn.exec_driver_sql(
                "EXPLAIN " + sql.replace("%(affiliate_id)s", "1"))]
            assert "Index Only Scan using pk_click_counts" in plan[0], plan
        else:
            plan = [row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql.replace("?", "1"))]
            assert plan == ["SEARCH click_counts USING PRIMARY KEY (affiliate_id=?)"], plan


def test_recount_rebuilds_the_counts_after_clicks_were_changed_with_sql(app, client, api_key):
    from affsrv.cli import cli

    code = add_affiliate(app)
    for n in range(4):
        api(client, api_key, code, referrer={"url": f"https://blog.example/{n % 2}"})
    with app.app_context(), db.engine.begin() as conn:  # by hand: the counts are now wrong
        conn.execute(text("DELETE FROM clicks WHERE id = (SELECT MIN(id) FROM clicks)"))
    result = app.test_cli_runner().invoke(cli, ["clicks", "recount"])
    assert result.exit_code == 0 and "2 click count(s) written" in result.output, result.output
    assert _counts(app) == _clicks_grouped(app)
    assert sum(_counts(app).values()) == 3
