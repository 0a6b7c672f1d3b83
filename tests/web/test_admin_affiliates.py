"""/admin/affiliates: search, approve, disable, edit, and each one's earned and owed."""

from __future__ import annotations

import re
from decimal import Decimal

from affsrv.affiliates.models import Affiliate
from affsrv.extensions import db
from tests.helpers import add_affiliate, add_product
from tests.web.support import csrf_token, merchant_client, post_form, record_sale


def _affiliate(app, code):
    with app.app_context():
        return db.session.query(Affiliate).filter_by(code=code).one()


def test_search_by_code_name_or_email_and_by_state(app):
    add_affiliate(app, code="ann", fname="Ann", lname="Lee", email="ann@blog.example")
    add_affiliate(app, code="bob", fname="Bob", lname="Stone", email="bob@site.example",
                  pending=True)
    add_affiliate(app, code="cy_1", fname="Cy", lname="Young", email="cy@site.example")
    client = merchant_client(app)

    def codes(query):
        html = client.get("/admin/affiliates?" + query).get_data(as_text=True)
        return set(re.findall(r'id="affiliate-([^"]+)"', html))

    assert codes("") == {"ann", "bob", "cy_1"}
    assert codes("q=STONE") == {"bob"}
    assert codes("q=site.example") == {"bob", "cy_1"}
    assert codes("q=ann+lee") == {"ann"}
    assert codes("q=_") == {"cy_1"}  # '_' is that character, not a wildcard
    assert codes("state=pending") == {"bob"}
    assert codes("state=active") == {"ann", "cy_1"}
    assert client.get("/admin/affiliates?state=nonsense").status_code == 400


def test_approve_disable_and_enable(app):
    add_affiliate(app, code="bob", pending=True)
    client = merchant_client(app)
    approved = post_form(client, "/admin/affiliates", "/admin/affiliates/bob/approve",
                         back="/admin/affiliates?state=pending")
    assert approved.status_code == 303
    assert approved.headers["Location"] == "/admin/affiliates?state=pending"
    assert _affiliate(app, "bob").approved
    post_form(client, "/admin/affiliates", "/admin/affiliates/bob/disable")
    assert not _affiliate(app, "bob").enabled
    assert "disabled" in client.get("/admin/affiliates/bob").get_data(as_text=True)
    post_form(client, "/admin/affiliates", "/admin/affiliates/bob/enable",
              back="https://evil.example/")
    assert _affiliate(app, "bob").enabled
    assert post_form(client, "/admin/affiliates",
                     "/admin/affiliates/nobody/approve").status_code == 404


def test_edit_name_email_commtier_payinfo_notes_and_clickbank_alias(app):
    add_affiliate(app, code="ann", commtier="10")
    add_affiliate(app, code="bob", email="bob@taken.example")
    client = merchant_client(app)
    saved = post_form(client, "/admin/affiliates/ann", "/admin/affiliates/ann", fname="Anna",
                      lname="Lee-Smith", email="anna@new.example", commtier="12.5",
                      clickbank_nickname="AnnCB", payinfo="anna@paypal.example",
                      notes="met at a fair")
    assert saved.status_code == 303
    ann = _affiliate(app, "ann")
    assert (ann.fname, ann.lname, ann.email, ann.commtier, ann.payinfo, ann.notes,
            ann.clickbank_nickname) == ("Anna", "Lee-Smith", "anna@new.example",
                                        Decimal("12.500"), "anna@paypal.example",
                                        "met at a fair", "anncb")
    cleared = post_form(client, "/admin/affiliates/ann", "/admin/affiliates/ann", fname="Anna",
                        lname="Lee", email="anna@new.example", commtier="",
                        clickbank_nickname="", payinfo="", notes="")
    assert cleared.status_code == 303
    assert _affiliate(app, "ann").commtier is None
    # Refusals change nothing.
    taken = post_form(client, "/admin/affiliates/ann", "/admin/affiliates/ann", fname="X",
                      lname="Y", email="bob@taken.example")
    assert taken.status_code == 409
    assert "already has that e-mail" in taken.get_data(as_text=True)
    assert _affiliate(app, "ann").fname == "Anna"
    bad = post_form(client, "/admin/affiliates/ann", "/admin/affiliates/ann", fname="X",
                    lname="Y", email="anna@new.example", commtier="150")
    assert bad.status_code == 400
    assert _affiliate(app, "ann").fname == "Anna"
    assert client.get("/admin/affiliates/nobody").status_code == 404


def test_earned_pending_paid_and_owed_per_affiliate(make_app):
    from affsrv.affiliates.services import get_affiliate
    from affsrv.commissions.services import reverse_commission
    from affsrv.payments.services import record_payment
    from affsrv.products.services import get_product

    app = make_app(commissions={"require_approval": False})
    add_affiliate(app, code="ann")
    pid = add_product(app)
    record_sale(app, "ann", pid, "30.00", ref="o1")
    record_sale(app, "ann", pid, "20.00", ref="o2")
    record_sale(app, "ann", pid, "5.00", ref="o3", currency="EUR")  # not the ledger's
    with app.app_context():
        record_payment(get_affiliate("ann"), method="paypal", amount="30.00")
        # o1 was paid, so its refund is a clawback: earned falls by 30.
        reverse_commission(get_affiliate("ann"), get_product(pid), "o1", "refund")
    client = merchant_client(app)
    page = client.get("/admin/affiliates/ann").get_data(as_text=True)
    assert re.search(r'id="bal-earned">20.00<', page)
    assert re.search(r'id="bal-paid">30.00<', page)
    assert re.search(r'id="bal-owed">-10.00<', page)
    listing = client.get("/admin/affiliates").get_data(as_text=True)
    row = listing[listing.index('id="affiliate-ann"'):]
    assert '<td class="num owed">-10.00</td>' in row[:row.index("</tr>")]


def test_pending_commissions_show_as_pending_not_earned(app):
    add_affiliate(app, code="ann")
    pid = add_product(app)
    record_sale(app, "ann", pid, "7.50")
    page = merchant_client(app).get("/admin/affiliates/ann").get_data(as_text=True)
    assert re.search(r'id="bal-pending">7.50<', page)
    assert re.search(r'id="bal-earned">0.00<', page)


def test_csrf_token_from_another_session_is_refused(app):
    add_affiliate(app, code="bob", pending=True)
    first = merchant_client(app)
    second = merchant_client(app, email="second@shop.example")
    token = csrf_token(first, "/admin/affiliates")
    refused = second.post("/admin/affiliates/bob/approve", data={"csrf_token": token})
    assert refused.status_code == 400
    assert not _affiliate(app, "bob").approved
