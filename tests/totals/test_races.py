"""Racing writers (two approvals, a refund racing its sale, two payouts, two sales) leave the
kept totals exactly equal to sums of the rows: every writer adds to a totals row with one
atomic statement, and the row's lock orders them. Threads through the app on the database
under test (PostgreSQL: concurrent transactions; SQLite: one writer at a time, waiting)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from affsrv.affiliates.services import get_affiliate
from affsrv.commissions.models import CommissionStatus
from affsrv.commissions.services import set_status
from affsrv.payments.services import record_payment
from tests.helpers import add_affiliate, add_product, api
from tests.kept_totals import assert_kept_totals_match_rows, commission_sums

ROUNDS = 5


def _together(jobs: list[Callable[[], Any]]) -> None:
    """Run ``jobs`` in threads released at the same moment; re-raise the first failure."""
    barrier = threading.Barrier(len(jobs), timeout=30)
    failures: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a writer did not finish"
    if failures:
        raise failures[0]


def test_racing_writers_leave_the_totals_equal_to_the_rows(make_app, api_key):
    approved = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    pending = make_app(mail={"enabled": False})
    code, product = add_affiliate(approved), add_product(approved)

    def sell(app: Any, ref: str) -> int:
        r = api(app.test_client(), api_key, code, commission={
            "product": product, "saletotal": "20.00", "commtotal": "2.50", "ref": ref})
        assert r.status_code == 200, r.json
        return int(r.json["id"])

    def refund(ref: str) -> None:
        client = approved.test_client()
        for _ in range(200):  # until its racing sale is there (bounded)
            r = api(client, api_key, code, commission={"product": product, "type": "refund",
                                                       "ref": ref})
            if r.status_code == 200:
                return
            assert r.status_code == 404, r.json
            time.sleep(0.02)
        raise AssertionError(f"the sale {ref} never came")

    def approve(ids: list[int]) -> None:
        with pending.app_context():
            assert set_status(ids, CommissionStatus.APPROVED) == len(ids)

    def pay() -> None:
        with approved.app_context():
            record_payment(get_affiliate(code), method="PayPal", amount="5.00")

    for round_ in range(ROUNDS):
        waiting = [sell(pending, f"p{round_}-{n}") for n in range(6)]
        _together([
            partial(sell, approved, f"a{round_}"),  # a sale, and its refund racing it
            partial(refund, f"a{round_}"),
            partial(sell, approved, f"b{round_}"),
            partial(approve, waiting[:3]),  # two approvals of the same product's totals
            partial(approve, waiting[3:]),
            pay, pay,  # two payouts, racing the refunds of what they settle
            *([partial(refund, f"b{round_ - 1}")] if round_ else []),
        ])
        assert_kept_totals_match_rows(approved)
    sums = commission_sums(approved)
    assert len(sums) == 1
    count, sale, commission, *_ = next(iter(sums.values()))
    answer = api(approved.test_client(), api_key, code, data={"op": "commissions"}).json
    assert answer["data"][str(product)]["commissions"] == str(count)
    assert answer["data"][str(product)]["sale_total"] == f"{sale:.2f}"
    assert answer["data"][str(product)]["commission_total"] == f"{commission:.2f}"
    payments = api(approved.test_client(), api_key, code, data={"op": "payments"}).json
    assert payments["data"]["PayPal"]["payments"] == str(2 * ROUNDS)


CART_ITEMS = 8
CART_ROUNDS = 2
APPROVALS = 20  # bulk approvals tried during each cart (bounded)


def test_a_cart_sale_racing_bulk_approvals_of_the_same_totals(make_app, api_key):
    """A ClickBank cart (one commission, so one kept totals row, per item) while bulk
    approvals of the same affiliate's pending commissions of those products run, their rows in
    the opposite order: on PostgreSQL each transaction locks totals rows the other wants. Every
    one must be done, the cart answered 200 (not 500 or 503), and the totals equal the rows."""
    from affsrv.affiliates.services import get_affiliate as affiliate_of
    from affsrv.commissions.services import record_commission
    from affsrv.products.services import get_product
    from tests.clickbank.support import add_cb_account, notification, post_ins

    approved = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    pending = make_app(mail={"enabled": False})
    add_cb_account(approved)
    code = add_affiliate(approved, code="annie")
    skus = [f"CART-{n}" for n in range(CART_ITEMS)]
    products = [add_product(approved, sku=sku, commission_rate=Decimal("10")) for sku in skus]
    item = notification()["lineItems"][0]
    items = [{**item, "itemNo": sku, "productPrice": 10.0 + n} for n, sku in enumerate(skus)]

    def pending_batches(round_: int) -> list[list[int]]:
        """Pending commissions of every product, each batch recorded last item first: an
        approval meets the totals rows in the cart's reverse order."""
        with pending.app_context():
            affiliate = affiliate_of(code)
            return [[record_commission(affiliate, get_product(p), Decimal("20.00"),
                                       Decimal("2.50"), order_ref=f"w{round_}-{b}-{p}"
                                       ).commission.id for p in reversed(products)]
                    for b in range(APPROVALS)]

    answers: list[int] = []
    cart_done = threading.Event()

    def cart_sale(receipt: str) -> None:
        try:
            sale = notification(affiliate=code, receipt=receipt, lineItems=items)
            answers.append(post_ins(approved.test_client(), sale).status_code)
        finally:
            cart_done.set()

    def approve_while_the_cart_is_stored(batches: list[list[int]]) -> None:
        with pending.app_context():
            for batch in batches:
                if cart_done.is_set():
                    return
                assert set_status(batch, CommissionStatus.APPROVED) == len(batch)
                time.sleep(0.05)

    for round_ in range(CART_ROUNDS):
        batches = pending_batches(round_)
        cart_done.clear()
        _together([partial(cart_sale, f"CART{round_}"),
                   partial(approve_while_the_cart_is_stored, batches)])
        assert answers[-1] == 200, answers
        assert_kept_totals_match_rows(approved)
    with approved.app_context():
        cart_commissions = {key[2]: s[0] for key, s in commission_sums(approved).items()}
    assert len(cart_commissions) == CART_ITEMS
    assert all(count >= CART_ROUNDS for count in cart_commissions.values())


PAYEES = 6


def _pay(app: Any, owed: dict[int, Decimal], order: list[int], outcomes: list[str]) -> None:
    """A payout batch of ``owed`` in ``order``; "recorded", or "refused" (409)."""
    from affsrv.errors import DomainError
    from affsrv.payments.services import record_payout_batch

    with app.app_context():
        try:
            record_payout_batch({aid: owed[aid] for aid in order}, "PayPal", "")
            outcomes.append("recorded")
        except DomainError as exc:
            assert exc.status == 409, exc.message
            outcomes.append("refused")


def test_two_payout_batches_of_the_same_affiliates_pay_each_once(make_app, api_key):
    """Two payout batches of the same affiliates, in opposite orders, with the amounts each
    was owed before either (two merchants, or one payout form sent twice): one is recorded,
    the other refused with 409 and nothing of it kept. On PostgreSQL they run at once (before
    the fix: a deadlock, or both recorded); on SQLite one waits for the other (before: both
    recorded, every affiliate paid twice)."""
    from sqlalchemy import func, select

    from affsrv.extensions import db
    from affsrv.payments.models import Payment
    from affsrv.payments.services import balances

    app = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    product = add_product(app)
    codes = [add_affiliate(app, code=f"payee{n}") for n in range(PAYEES)]
    for round_ in range(3):
        for n, code in enumerate(codes):
            r = api(app.test_client(), api_key, code, commission={
                "product": product, "saletotal": "40.00", "commtotal": f"{n + 1}.25",
                "ref": f"r{round_}-{n}"})
            assert r.status_code == 200, r.json
        with app.app_context():
            ids = [get_affiliate(code).id for code in codes]
            owed = {aid: b.owed for aid, b in balances(ids).items()}
            assert all(amount > 0 for amount in owed.values())
        outcomes: list[str] = []
        _together([partial(_pay, app, owed, ids, outcomes),
                   partial(_pay, app, owed, list(reversed(ids)), outcomes)])
        assert sorted(outcomes) == ["recorded", "refused"]
        with app.app_context():
            assert all(b.owed == 0 for b in balances(ids).values())
            assert db.session.scalar(select(func.count()).select_from(Payment)) == \
                PAYEES * (round_ + 1)
        assert_kept_totals_match_rows(app)


def test_a_cart_takes_its_items_in_product_order_whatever_order_they_come_in(make_app, api_key):
    """A cart whose items come last product first, held just after its first commission while
    a bulk approval of the same affiliate's two products starts: the cart must have taken the
    lower product's totals row first (the order every writer of several rows keeps), so the
    approval waits behind it. Taken in the items' order, the cart would hold the higher row,
    the approval the lower, each then wanting the other's: a deadlock on PostgreSQL, one of
    them refused. The approval must likewise change one product's commissions at a time, in
    that order. (On SQLite the cart holds the one write lock; the approval waits either way.)"""
    from sqlalchemy import event

    from affsrv.affiliates.services import get_affiliate as affiliate_of
    from affsrv.commissions.services import record_commission
    from affsrv.extensions import db
    from affsrv.products.services import get_product
    from tests.clickbank.support import add_cb_account, notification, post_ins

    approved = make_app(commissions={"require_approval": False}, mail={"enabled": False})
    pending = make_app(mail={"enabled": False})
    add_cb_account(approved)
    code = add_affiliate(approved, code="annie")
    low, high = (add_product(approved, sku=sku, commission_rate=Decimal("10"))
                 for sku in ("LOW-1", "HIGH-1"))
    with pending.app_context():
        waiting = [record_commission(affiliate_of(code), get_product(p), Decimal("20.00"),
                                     Decimal("2.50"), order_ref=f"w-{p}").commission.id
                   for p in (high, low)]  # the higher first: an update of both would meet it first
    item = notification()["lineItems"][0]
    items = [{**item, "itemNo": "HIGH-1", "productPrice": 20.0},
             {**item, "itemNo": "LOW-1", "productPrice": 10.0}]
    approval_started, cart_holds_a_row = threading.Event(), threading.Event()
    outcomes: list[Any] = []

    def hold_after_the_first_commission(conn, cursor, statement, *args) -> None:
        if (statement.lstrip().upper().startswith("INSERT INTO COMMISSIONS")
                and not cart_holds_a_row.is_set()):
            cart_holds_a_row.set()
            assert approval_started.wait(30)
            time.sleep(0.5)  # the approval's first update is sent meanwhile (bounded wait)

    def cart_sale() -> None:
        sale = notification(affiliate=code, receipt="CARTLOCK", lineItems=items)
        outcomes.append(post_ins(approved.test_client(), sale).status_code)

    def approve_once_the_cart_holds_its_first_row() -> None:
        assert cart_holds_a_row.wait(30), "the cart never recorded a commission"
        with pending.app_context():
            approval_started.set()
            outcomes.append(set_status(waiting, CommissionStatus.APPROVED))

    with approved.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", hold_after_the_first_commission)
    try:
        _together([cart_sale, approve_once_the_cart_holds_its_first_row])
    finally:
        event.remove(engine, "after_cursor_execute", hold_after_the_first_commission)
    assert sorted(outcomes, key=str) == [2, 200], outcomes
    assert_kept_totals_match_rows(approved)
