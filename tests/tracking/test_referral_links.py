"""Referring links are stored once and named by id: long or non-ASCII links are kept whole,
each URL gets one row however many clicks (and workers) name it."""

import random
import threading

import pytest
from sqlalchemy import func, select

from affsrv.extensions import db
from affsrv.tracking.models import Click, ReferralLink
from tests.helpers import add_affiliate, add_product, api, count_rows


def _referrers(client, key, code):
    answer = api(client, key, code, data={"op": "referrals"}).get_json()
    assert answer["status"] == "ok", answer
    return answer["data"]


def test_a_long_non_ascii_link_is_recorded_and_reported_whole(app, client, api_key):
    code = add_affiliate(app)
    rng = random.Random(1)
    # 2,000 CJK characters: 6,000 bytes, more than a PostgreSQL index entry may hold.
    url = "https://blog.example/" + "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2000))
    for _ in range(2):
        answer = api(client, api_key, code, referrer={"url": url}).get_json()
        assert answer["status"] == "ok", answer
    assert _referrers(client, api_key, code) == {"0": {"referrers": [{"count": "2", "link": url}]}}
    assert count_rows(app, ReferralLink) == 1


def test_a_landing_with_a_long_latin1_referer_is_counted(app, client, api_key):
    code = add_affiliate(app)
    # Header bytes above 0x7f arrive as Latin-1 characters: two UTF-8 bytes each.
    referer = "https://blog.example/" + "\u00e9" * 2000
    r = client.get(f"/r/{code}", headers={"Referer": referer.encode("latin-1")})
    assert r.status_code == 302 and r.headers.getlist("Set-Cookie")
    assert count_rows(app, Click) == 1
    links = _referrers(client, api_key, code)["0"]["referrers"]
    assert [(x["count"], len(x["link"])) for x in links] == [("1", 2048)]  # cut at MAX_LINK


def test_many_clicks_on_one_link_share_one_row(make_app):
    app = make_app(tracking={"click_flush_ms": 60000, "click_flush_max": 100000})
    code = add_affiliate(app)
    client = app.test_client()
    for n in range(30):
        client.get(f"/r/{code}", headers={"Referer": f"https://blog.example/{n % 3}"})
    assert app.extensions["click_buffer"].flush() == 30
    with app.app_context():
        per_link = db.session.execute(
            select(Click.link_id, func.count()).group_by(Click.link_id)).all()
    assert sorted(n for _, n in per_link) == [10, 10, 10]
    assert count_rows(app, ReferralLink) == 3


def test_workers_adding_the_same_new_links_at_once_store_each_once(make_app, _schema):
    """Two apps (two workers) flush clicks naming the same new links at the same moment."""
    first = make_app()
    code = add_affiliate(first)
    apps = [first, make_app()]
    urls = [f"https://race.example/{n}" for n in range(50)]
    barrier = threading.Barrier(len(apps) * 2)
    errors = []

    def flush_clicks(app, order):
        from affsrv.affiliates.directory import find_affiliate
        from affsrv.db.types import utcnow

        try:
            with app.test_request_context():
                aid = find_affiliate(code).id
            buffer = app.extensions["click_buffer"]
            rows = [(aid, None, url, "", "", utcnow()) for url in order]
            barrier.wait(timeout=10)
            with app.app_context():
                buffer._write(rows)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=flush_clicks, args=(app, order))
               for app in apps for order in (urls, list(reversed(urls)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert count_rows(first, ReferralLink) == 50
    assert count_rows(first, Click) == 200


def test_a_link_added_in_a_transaction_that_rolled_back_is_not_remembered(app, client):
    code = add_affiliate(app)
    link_ids = app.extensions["referral_links"]
    with app.app_context(), pytest.raises(RuntimeError), db.engine.begin() as conn:
        link_ids.lookup(conn, ["https://gone.example/"])
        raise RuntimeError("the transaction fails after the link was added")
    assert count_rows(app, ReferralLink) == 0
    # A later click naming the same link adds it again rather than naming a missing row.
    r = client.get(f"/r/{code}", headers={"Referer": "https://gone.example/"})
    assert r.status_code == 302
    assert count_rows(app, Click) == 1 and count_rows(app, ReferralLink) == 1



def test_a_worker_that_never_saw_the_links_reports_their_urls(make_app, api_key):
    """Links written by one worker are named by id; another worker (its own ReferralLinks,
    empty) reads their URLs once and reports them, products in order, no-product clicks
    first."""
    writer = make_app()
    code = add_affiliate(writer)
    p1, p2 = add_product(writer, "One"), add_product(writer, "Two")
    client = writer.test_client()
    for product, url in [(p2, "https://b.example/"), (None, "https://z.example/"),
                         (p1, "https://b.example/"), (p1, "https://a.example/"),
                         (p1, "https://b.example/")]:
        answer = api(client, api_key, code, referrer={"product": product, "url": url})
        assert answer.get_json()["status"] == "ok"

    reader = make_app()
    for _ in range(2):  # the second answer comes from what the first learnt
        data = _referrers(reader.test_client(), api_key, code)
        assert list(data) == ["0", str(p1), str(p2)]
        assert data == {
            "0": {"referrers": [{"count": "1", "link": "https://z.example/"}]},
            str(p2): {"referrers": [{"count": "1", "link": "https://b.example/"}]},
            str(p1): {"referrers": [{"count": "1", "link": "https://a.example/"},
                                    {"count": "2", "link": "https://b.example/"}]},
        }
