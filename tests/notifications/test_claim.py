"""Several workers at once never deliver the same attempt twice."""

import threading
from collections import Counter

from sqlalchemy import select

from affsrv.extensions import db
from affsrv.notifications.models import OutboxMessage, OutboxStatus
from affsrv.notifications.services import claim_due, enqueue_ins
from tests.clickbank.support import Receiver
from tests.notifications.support import opened, run_due, subscribe

COUNT = 40


def _fill(app, count=COUNT):
    with app.app_context():
        for n in range(count):
            enqueue_ins(lambda role, n=n: {"receipt": f"R{n}", "transactionType": "SALE",
                                           "role": role, "version": "6.0"},
                        None, [], f"SALE R{n}")
        db.session.commit()


def test_concurrent_claims_are_disjoint(make_app):
    app = make_app()
    subscribe(app, "http://127.0.0.1:9/never")
    _fill(app)
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claimer() -> None:
        with app.app_context():
            barrier.wait(timeout=10)
            for _ in range(COUNT):
                ids = claim_due(batch=3).ids
                if not ids and not _pending_unclaimed(app):
                    break
                claimed.append(ids)
            db.session.remove()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    every = [i for ids in claimed for i in ids]
    assert len(every) == COUNT and len(set(every)) == COUNT


def _pending_unclaimed(app) -> bool:
    return db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.claim_token.is_(None)).limit(1)
    ) is not None


def test_two_workers_deliver_each_message_once(make_app):
    receiver = Receiver()
    with receiver.running():
        first = make_app()
        second = make_app()  # another process's app: its own engine and connections
        subscribe(first, receiver.url)
        _fill(first)
        barrier = threading.Barrier(2)

        def work(app) -> None:
            barrier.wait(timeout=10)
            for _ in range(COUNT):
                if run_due(app) == 0:
                    break

        threads = [threading.Thread(target=work, args=(a,)) for a in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    sent = Counter((n["receipt"], n["attemptCount"]) for n in map(opened, receiver.bodies))
    assert len(sent) == COUNT and set(sent.values()) == {1}
    with first.app_context():
        statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {OutboxStatus.DELIVERED}
