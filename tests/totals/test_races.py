"""Racing writers (two approvals, a refund racing its sale, two payouts, two sales) leave the
kept totals exactly equal to sums of the rows: every writer adds to a totals row with one
atomic statement, and the row's lock orders them. Threads through the app on the database
under test (PostgreSQL: concurrent transactions; SQLite: one writer at a time, waiting)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
