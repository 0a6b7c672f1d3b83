"""The ``Page`` header: 100 a page, 206 while more remain, 200 on the last; keyset pages
(sequential, jumped to, or from another worker's remembered cursor) agree."""

from datetime import timedelta

import pytest

from affsrv.restapi import paging
from tests.restapi.conftest import add_orders

WINDOW = {"startDate": "2024-03-01", "endDate": "2024-03-31"}


def _pages(rest, path, key, pages, **params):
    answers = [rest("GET", path, page=n, **params) for n in pages]
    return [a.status_code for a in answers], [[o["receipt"] for o in a.json[key]]
                                              for a in answers]


@pytest.mark.parametrize("path,key", [("shipping2/list", "orderShipData2"),
                                      ("orders2/list", "orderData")])
@pytest.mark.parametrize("total,statuses,sizes", [
    (100, [200], [100]),
    (101, [206, 200], [100, 1]),
    (250, [206, 206, 200], [100, 100, 50]),
])
def test_pages_across_the_boundary(rest, app, path, key, total, statuses, sizes):
    add_orders(app, total)
    got_statuses, pages = _pages(rest, path, key, range(1, len(sizes) + 1), **WINDOW)
    assert got_statuses == statuses
    assert [len(p) for p in pages] == sizes
    flat = [r for page in pages for r in page]
    assert flat == [f"RCPT{n:07d}" for n in range(total)]  # in order, no gap, no repeat


def test_a_page_past_the_end_is_empty_and_200(rest, app):
    add_orders(app, 5)
    r = rest("GET", "shipping2/list", page=3, **WINDOW)
    assert r.status_code == 200 and r.json == {"orderShipData2": []}


def test_jumping_to_a_page_equals_walking_to_it(rest, app):
    # Ties in transaction_time are ordered by id, so no row is lost between pages.
    add_orders(app, 250, step=timedelta(0))
    _, walked = _pages(rest, "orders2/list", "orderData", [1, 2, 3])
    paging.forget_all()
    statuses, jumped = _pages(rest, "orders2/list", "orderData", [3, 2])
    assert statuses == [200, 206]
    assert jumped == [walked[2], walked[1]]


def test_a_worker_missing_the_previous_page_starts_from_an_older_cursor(rest, app):
    add_orders(app, 250)
    _, walked = _pages(rest, "orders2/list", "orderData", [1, 2, 3])
    paging.forget_all()
    rest("GET", "orders2/list", page=1)  # this worker only remembers page 1
    assert _pages(rest, "orders2/list", "orderData", [3])[1] == [walked[2]]


def test_different_filters_do_not_share_cursors(rest, app):
    add_orders(app, 150)
    add_orders(app, 150, first=150, transaction_type="BILL")
    rest("GET", "orders2/list", page=1, type="SALE")
    bills = rest("GET", "orders2/list", page=2, type="BILL").json["orderData"]
    assert [o["receipt"] for o in bills] == [f"RCPT{n:07d}" for n in range(250, 300)]


def test_remembered_cursors_stay_bounded():
    for page in range(1, 500):
        paging._remember(("q",), page, (page,))
    assert len(paging._cursors[("q",)]) == paging.PAGES_KEPT
    assert paging._remembered(("q",), 1000) == (499, (499,))
    assert paging._remembered(("q",), 10) == (0, None)  # long forgotten: a cold page
