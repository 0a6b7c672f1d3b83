"""bench/floor.py: the bare app's floors run affsrv's own queries, on both databases, and
answer like the echo. (How fast they are is bench/run.py --floor's business, not a test's.)"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# bench/ itself, where run.py starts bare_app (which imports floor from there)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_app import create_bare_app  # noqa: E402
from floor import FLOORS, LADDER, LADDER_OPS, LANDING_LADDER, RawReader  # noqa: E402
from test_run import _run_module  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database bench/run.py seeded at a tiny scale: 4 affiliates, 3 products."""
    run = _run_module()
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url, drop = run._postgres_database(run.parse_args(["--db", "postgresql"]))
    try:
        run.seed(url, run.Scale(affiliates=4, products=3, commissions=400, payments=40,
                                clicks=400), tmp_path)
        yield url
    finally:
        if drop is not None:
            drop()


def test_every_floor_answers_the_echo(seeded: str) -> None:
    client = create_bare_app(database_url=seeded).test_client()
    body = {"apikey": "k" * 40, "affiliate": "aff2", "data": {"op": "commissions", "product": 1}}
    for name in FLOORS:
        answer = client.post(f"/floor/{name}", json=body)
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json == {"status": "ok", "data": body}
    assert client.post("/floor/nothing", json=body).status_code == 404


def test_the_floors_run_the_totals_reads_affsrv_runs() -> None:
    """The floors of `commissions` and `payments` read the kept totals rows, as affsrv does."""
    reader = RawReader("sqlite:///unused.db")
    for name, table in (("commissions", "commission_totals"),
                        ("commissions-product", "commission_totals"),
                        ("payments", "payment_totals")):
        assert f"FROM {table} " in reader.compiled[name].sql, reader.compiled[name].sql


def test_run_measures_every_floor_the_bare_app_serves() -> None:
    assert list(_run_module().FLOOR_NAMES) == list(FLOORS)


def test_the_floors_read_the_rows_affsrv_reads(seeded: str) -> None:
    # The queries run with the affiliate's id (read off the seeded code) and the statements'
    # own constants, so they find the rows affsrv's ops find: 400 commissions over 4
    # affiliates and 3 products (80% approved), 10 payments each over 3 methods, clicks from
    # 20 referrers.
    reader = RawReader(seeded)
    given = {"code": "aff3", "affiliate_id": 3, "product_id": 2, "currency": "USD"}
    assert reader.run("roundtrip", {}) == 1
    assert reader.run("info", given) == 1
    assert reader.run("info", {**given, "code": "aff9"}) == 0
    assert reader.run("commissions", given) == 3
    assert reader.run("commissions-product", given) == 1
    assert 1 <= reader.run("payments", given) <= 3
    assert reader.run("referrals", given) > 3
    assert reader.run("referrals", {**given, "affiliate_id": 9}) == 0


def test_every_ladder_step_answers_the_call(seeded: str) -> None:
    """Each step of the required floor answers like the floor (the echo) until the last, which
    answers what affsrv's op answers; the key and limit steps refuse a wrong key."""
    from affsrv import create_app

    run = _run_module()
    with create_app(overrides={"database": {"url": seeded}}).app_context():
        from affsrv.apikeys.services import create_api_key

        apikey = create_api_key("ladder")[1]
    client = create_bare_app(database_url=seeded).test_client()
    for op in LADDER_OPS:
        data = {"op": "commissions", "product": 1} if op == "commissions-product" else {
            "op": op}
        body = {"apikey": apikey, "affiliate": "aff2", "data": data}
        for step in LADDER:
            answer = client.post(f"/ladder/{step}/{op}", json=body)
            assert answer.status_code == 200, (step, op, answer.text)
            if step == "answer":
                assert answer.json["status"] == "ok"
                assert answer.json["data"] != data, (op, answer.json)
            else:
                assert answer.json == {"status": "ok", "data": body}, (step, op)
        for step in LADDER[LADDER.index("key"):]:
            # From an address of its own each time: the limit steps count wrong keys.
            refused = client.post(f"/ladder/{step}/{op}", json={**body, "apikey": "wrong"},
                                  environ_base={"REMOTE_ADDR": f"192.0.2.{len(op)}{len(step)}"})
            assert refused.status_code == 403, (step, op, refused.text)
    assert client.post("/ladder/answer/nothing", json=body).status_code == 404
    assert run.LADDER_NAMES.keys() == set(LADDER)


def test_the_limit_step_refuses_an_over_limit_client_before_its_key(seeded: str) -> None:
    from affsrv import create_app

    with create_app(overrides={"database": {"url": seeded}}).app_context():
        from affsrv.apikeys.services import create_api_key

        apikey = create_api_key("ladder")[1]
    client = create_bare_app(database_url=seeded).test_client()
    body = {"apikey": "wrong", "affiliate": "aff2", "data": {"op": "payments"}}
    statuses = [client.post("/ladder/limit/payments", json=body,
                            environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code
                for _ in range(11)]
    assert statuses == [403] * 10 + [429]
    right = client.post("/ladder/limit/payments", json={**body, "apikey": apikey},
                        environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert right.status_code == 429
    # The key step alone has no limit: the same client's right key still passes there.
    assert client.post("/ladder/key/payments", json={**body, "apikey": apikey},
                       environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code == 200


def test_every_landing_step_redirects_with_the_cookie(seeded: str) -> None:
    """Only the last step records the click (in the ladder app's click buffer)."""
    client = create_bare_app(database_url=seeded).test_client()
    buffer = client.application.extensions["ladder_app"].extensions["click_buffer"]
    try:
        for step in LANDING_LADDER:
            before = buffer.waiting
            answer = client.get("/ladder/" + step + "/r/aff3?p=2",
                                headers={"Referer": "https://blog.example/a"})
            assert answer.status_code == 302, (step, answer.text)
            assert "aff3" in answer.headers["Set-Cookie"], step
            assert buffer.waiting - before == (1 if step == "click" else 0), step
    finally:
        buffer.stop()
