"""/admin/commissions: filters, approving and rejecting one (htmx or a plain form) or many,
and the CSV of the filtered list."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from affsrv.commissions.models import Commission
from affsrv.extensions import db
from tests.helpers import add_affiliate, add_product
from tests.web.support import commission_status, csrf_token, merchant_client, record_sale


def _at(app, commission_id, when):
    with app.app_context():
        db.session.get(Commission, commission_id).created_at = when
        db.session.commit()


def _setup(app):
    add_affiliate(app, code="ann")
    add_affiliate(app, code="bob")
    widget, gadget = add_product(app, name="Widget"), add_product(app, name="Gadget")
    ids = {
        "ann-widget": record_sale(app, "ann", widget, "10.00", ref="a1"),
        "ann-gadget": record_sale(app, "ann", gadget, "20.00", ref="a2"),
        "bob-widget": record_sale(app, "bob", widget, "30.00", ref="b1"),
    }
    _at(app, ids["ann-widget"], datetime(2026, 3, 1, 12, tzinfo=UTC))
    _at(app, ids["ann-gadget"], datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    _at(app, ids["bob-widget"], datetime(2026, 3, 5, 8, tzinfo=UTC))
    return ids, widget, gadget


def _shown(client, query=""):
    html = client.get("/admin/commissions?" + query).get_data(as_text=True)
    return {int(i) for i in re.findall(r'id="commission-(\d+)"', html)}


def test_filters_by_status_affiliate_product_and_date(app):
    ids, widget, gadget = _setup(app)
    client = merchant_client(app)
    assert _shown(client) == set(ids.values())
    assert _shown(client, "affiliate=ann") == {ids["ann-widget"], ids["ann-gadget"]}
    assert _shown(client, f"product={widget}") == {ids["ann-widget"], ids["bob-widget"]}
    assert _shown(client, "from=2026-03-02&to=2026-03-05") == {ids["ann-gadget"],
                                                              ids["bob-widget"]}
    assert _shown(client, "to=2026-03-01") == {ids["ann-widget"]}
    assert _shown(client, "status=approved") == set()
    assert _shown(client, "status=pending&affiliate=bob") == {ids["bob-widget"]}
    assert client.get("/admin/commissions?status=paid").status_code == 400
    assert client.get("/admin/commissions?from=March").status_code == 400
    assert client.get("/admin/commissions?affiliate=nobody").status_code == 404
    assert client.get("/admin/commissions?product=x").status_code == 400


def test_dates_are_days_in_the_viewers_zone(make_app):
    app = make_app(server={"timezone": "Asia/Tokyo"})  # UTC+9
    ids, _w, _g = _setup(app)
    client = merchant_client(app)
    # 2026-03-02 23:30 UTC is 2026-03-03 08:30 in Tokyo.
    assert _shown(client, "from=2026-03-03&to=2026-03-03") == {ids["ann-gadget"]}
    assert _shown(client, "from=2026-03-02&to=2026-03-02") == set()


def test_approve_one_with_htmx_answers_the_new_row(app):
    ids, _w, _g = _setup(app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/commissions")
    one = ids["ann-widget"]
    answer = client.post(f"/admin/commissions/{one}/approve",
                         headers={"HX-Request": "true", "X-CSRFToken": token})
    assert answer.status_code == 200
    row = answer.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="commission-{one}">')
    assert '<span class="badge approved">approved</span>' in row and "<html" not in row
    assert commission_status(app, one) == "approved"
    # Deciding it again is refused: it is no longer pending.
    again = client.post(f"/admin/commissions/{one}/reject",
                        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert again.status_code == 409
    assert commission_status(app, one) == "approved"
    assert client.post(f"/admin/commissions/{one}/pay",
                       headers={"X-CSRFToken": token}).status_code == 400
    assert client.post("/admin/commissions/999999/approve",
                       headers={"X-CSRFToken": token}).status_code == 404


def test_reject_one_with_a_plain_form_redirects_back(app):
    ids, _w, _g = _setup(app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/commissions")
    one = ids["bob-widget"]
    answer = client.post(f"/admin/commissions/{one}/reject", data={"csrf_token": token},
                         headers={"Referer": "http://localhost/admin/commissions?affiliate=bob"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "http://localhost/admin/commissions?affiliate=bob"
    assert commission_status(app, one) == "rejected"


def test_approve_many_at_once_or_none(app):
    ids, _w, _g = _setup(app)
    client = merchant_client(app)
    token = csrf_token(client, "/admin/commissions")
    many = client.post("/admin/commissions/decide", data={
        "csrf_token": token, "action": "approve",
        "id": [ids["ann-widget"], ids["ann-gadget"]], "back": "/admin/commissions?status=pending"})
    assert many.status_code == 303
    assert many.headers["Location"] == "/admin/commissions?status=pending"
    assert commission_status(app, ids["ann-widget"]) == "approved"
    assert commission_status(app, ids["ann-gadget"]) == "approved"
    # One already decided among them: none changes.
    mixed = client.post("/admin/commissions/decide", data={
        "csrf_token": token, "action": "reject", "id": [ids["ann-widget"], ids["bob-widget"]]})
    assert mixed.status_code == 409
    assert commission_status(app, ids["bob-widget"]) == "pending"
    assert client.post("/admin/commissions/decide", data={
        "csrf_token": token, "action": "approve"}).status_code == 400
    assert client.post("/admin/commissions/decide", data={
        "csrf_token": token, "action": "approve", "id": "x"}).status_code == 400


def test_csv_download_of_the_filtered_list(app):
    ids, widget, _g = _setup(app)
    client = merchant_client(app)
    answer = client.get(f"/admin/commissions.csv?product={widget}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert 'filename="commissions.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(int(r["id"]), r["affiliate"], r["product"], r["commission_total"], r["status"])
            for r in rows] == [(ids["bob-widget"], "bob", "Widget", "30.00", "pending"),
                               (ids["ann-widget"], "ann", "Widget", "10.00", "pending")]
    assert rows[1]["created"] == "2026-03-01 12:00:00 +0000"


def test_csv_cells_a_spreadsheet_would_run_are_defused(app):
    add_affiliate(app, code="ann")
    pid = add_product(app, name="=HYPERLINK(\"http://evil.example\")")
    record_sale(app, "ann", pid, "1.00", ref="=1+1")
    rows = list(csv.reader(io.StringIO(
        merchant_client(app).get("/admin/commissions.csv").get_data(as_text=True))))
    assert rows[1][4].startswith("'=HYPERLINK")
    assert rows[1][10] == "'=1+1"
