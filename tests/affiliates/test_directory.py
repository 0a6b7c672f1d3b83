"""Each worker's in-memory affiliate directory: loaded whole, refreshed from ``updated_at``,
misses looked up at once, stale by at most ``[server] cache_seconds``."""

import json
import time

from sqlalchemy import select, text

from affsrv.affiliates.directory import affiliate_directory, find_affiliate
from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.services import set_enabled
from affsrv.extensions import db
from tests.helpers import add_affiliate


def _rename_code(app, old, new):
    with app.app_context():
        affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == old))
        affiliate.code = new
        db.session.commit()


def test_first_lookup_loads_every_affiliate(make_app):
    app = make_app(server={"cache_seconds": 60})
    codes = [add_affiliate(app) for _ in range(5)]
    with app.test_request_context():
        assert find_affiliate(codes[0]).code == codes[0]
        assert len(affiliate_directory()) == 5
        ref = find_affiliate(codes[3])
        assert ref.enabled and ref.approved and ref.updated_at is not None


def test_a_new_affiliate_is_found_at_once_and_an_unknown_code_is_not(make_app):
    app = make_app(server={"cache_seconds": 60})
    add_affiliate(app)
    with app.test_request_context():
        assert find_affiliate("nobody") is None
        assert find_affiliate("bad code!") is None  # not a code at all: never looked up
    code = add_affiliate(app, code="late")
    with app.test_request_context():
        assert find_affiliate(code).code == "late"


def test_an_unknown_code_is_remembered_until_the_next_refresh(make_app):
    app = make_app(server={"cache_seconds": 1})
    add_affiliate(app)
    with app.test_request_context():
        assert find_affiliate("later") is None
    add_affiliate(app, code="later")
    with app.test_request_context():
        assert find_affiliate("later") is None  # within cache_seconds: the documented bound
    time.sleep(1.2)
    with app.test_request_context():
        assert find_affiliate("later").code == "later"


def test_changes_reach_the_directory_on_refresh(make_app):
    app = make_app(server={"cache_seconds": 1})
    code = add_affiliate(app)
    other = add_affiliate(app)
    with app.test_request_context():
        assert find_affiliate(code).enabled
    with app.app_context():
        set_enabled(code, False)
    _rename_code(app, other, "renamed")
    with app.test_request_context():
        assert find_affiliate(code).enabled  # stale, within cache_seconds
    time.sleep(1.2)
    with app.test_request_context():
        assert not find_affiliate(code).enabled
        assert find_affiliate("renamed") is not None
        assert find_affiliate(other) is None


def test_a_change_stamped_before_the_newest_row_is_still_read(make_app):
    """A transaction that committed after a newer row was already seen (its updated_at is
    older) is caught by the refresh's overlap."""
    app = make_app(server={"cache_seconds": 1})
    code = add_affiliate(app)
    with app.test_request_context():
        find_affiliate(code)
    add_affiliate(app)  # the newest row the next refresh sees
    time.sleep(1.2)
    with app.test_request_context():
        find_affiliate(code)  # refreshed: its mark is now the newest row's time
    with app.app_context():  # disabled "10 seconds ago", committed now
        db.session.execute(
            text("UPDATE affiliates SET enabled = :no, updated_at = :at WHERE code = :code"),
            {"no": False, "code": code,
             "at": _db_time(app, -10)},
        )
        db.session.commit()
    time.sleep(1.2)
    with app.test_request_context():
        assert not find_affiliate(code).enabled


def _db_time(app, seconds):
    """Now plus ``seconds`` in the form the database stores (UTCDateTime's bind)."""
    from datetime import timedelta

    from affsrv.db.types import utcnow

    with app.app_context():
        dialect = db.engine.dialect
        column_type = Affiliate.__table__.c.updated_at.type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        value = utcnow() + timedelta(seconds=seconds)
        return process(value) if process else value


def test_a_failed_refresh_keeps_answering_from_memory(make_app, tmp_path):
    app = make_app(server={"cache_seconds": 1})
    code = add_affiliate(app)
    with app.test_request_context():
        assert find_affiliate(code) is not None
    with app.app_context():
        db.session.execute(text("ALTER TABLE affiliates RENAME TO affiliates_away"))
        db.session.commit()
    try:
        time.sleep(1.2)
        with app.test_request_context():
            assert find_affiliate(code).code == code
    finally:
        with app.app_context():
            db.session.execute(text("ALTER TABLE affiliates_away RENAME TO affiliates"))
            db.session.commit()
    app.extensions["affsrv_logs"].close()
    lines = [json.loads(x) for x in (tmp_path / "logs" / "general.log").read_text().splitlines()]
    assert any(line["event"] == "directory refresh failed; retrying later" for line in lines)


def test_without_caching_every_lookup_reads_the_database(app):
    code = add_affiliate(app)
    with app.test_request_context():
        assert find_affiliate(code).enabled
    with app.app_context():
        set_enabled(code, False)
    with app.test_request_context():
        assert not find_affiliate(code).enabled
        assert "affiliate_directory" not in app.extensions or len(affiliate_directory()) == 0
