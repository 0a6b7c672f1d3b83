"""``append_rows``: the click buffer's bulk insert (COPY on PostgreSQL, executemany on SQLite)
writes the same values SQLAlchemy would, inside the caller's transaction."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from affsrv.db.bulk import append_rows
from affsrv.extensions import db
from affsrv.tracking.models import Click, ReferralLink
from affsrv.tracking.services import CLICK_COLUMNS
from tests.helpers import add_affiliate, add_product, count_rows


def _affiliate_id(app, code):
    from affsrv.affiliates.directory import find_affiliate

    with app.test_request_context():
        return find_affiliate(code).id


def _link_id(app, url):
    with app.app_context():
        link = ReferralLink(digest=url.encode().ljust(32, b"-")[:32], url=url)
        db.session.add(link)
        db.session.commit()
        return link.id


def test_rows_read_back_as_written(app):
    aid = _affiliate_id(app, add_affiliate(app))
    pid = add_product(app)
    link = _link_id(app, "https://blog.example/a")
    at = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    rows = [
        (aid, pid, link, "203.0.113.7", "UA/1 \u00e9", at),
        (aid, None, link, "", "tab\there, new\nline, back\\slash", at),
    ]
    with app.app_context():
        with db.engine.begin() as conn:
            append_rows(conn, Click.__table__, CLICK_COLUMNS, rows)
        read = db.session.execute(
            select(Click.affiliate_id, Click.product_id, Click.link_id, Click.ip,
                   Click.user_agent, Click.created_at).order_by(Click.id)
        ).all()
    assert [tuple(r) for r in read] == rows


def test_a_failed_append_writes_nothing_and_raises_sqlalchemys_error(app):
    aid = _affiliate_id(app, add_affiliate(app))
    link = _link_id(app, "")
    now = datetime.now(UTC)
    no_such_affiliate = aid + 1000
    rows = [(aid, None, link, "", "", now), (no_such_affiliate, None, link, "", "", now)]
    with app.app_context(), pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        append_rows(conn, Click.__table__, CLICK_COLUMNS, rows)
    assert isinstance(caught.value, IntegrityError)
    assert count_rows(app, Click) == 0
