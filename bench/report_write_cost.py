"""What the reports' rollups cost each ClickBank sale: this process's CPU time per INS
notification (SQLite runs in-process, so its work is counted), and with ``--profile`` the
share of it spent in ``affsrv.reports.rollups``.

Runs in any checkout of affsrv (it uses only the app and the tests' ClickBank helpers), so the
same script times the commit before the reports were merged and today's::

    git worktree add /tmp/pre-reports 9fc334f^1
    python bench/report_write_cost.py --tree /tmp/pre-reports
    python bench/report_write_cost.py --tree . --without-rollups   # today's, writes off
    python bench/report_write_cost.py --tree . --profile
    python bench/report_write_cost.py --tree . --pg-url postgresql://postgres@127.0.0.1:5432/test

Each run stores ``--sales`` SALE notifications with an affiliate (so a commission is recorded
with each) and a refund (RFND, reversing it) after every tenth, after ``--warm`` warm-up
notifications, on a fresh SQLite database (or with ``--pg-url`` a new PostgreSQL database).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", default=".", help="the affsrv checkout to time")
    parser.add_argument("--sales", type=int, default=300)
    parser.add_argument("--warm", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--without-rollups", action="store_true",
                        help="the same checkout with the rollup writes switched off")
    parser.add_argument("--pg-url", help="a PostgreSQL server: time on a new database there "
                        "(dropped after) instead of SQLite; the server's work is then in the "
                        "wall time only")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.tree).resolve()))

    if args.without_rollups:
        import affsrv.clickbank.services as intake
        from affsrv.reports import rollups
        from affsrv.signals import commission_recorded, commission_reversed

        intake.roll_up_order = lambda order: None
        commission_recorded.disconnect(rollups._on_commission_recorded)
        commission_reversed.disconnect(rollups._on_commission_reversed)
    directory = tempfile.mkdtemp(prefix="write-cost-")
    url, drop = f"sqlite:///{directory}/cost.db", None
    if args.pg_url:
        from tests.conftest import create_postgres_database

        url, drop = create_postgres_database(args.pg_url)
    try:
        _time(args, url, directory)
    finally:
        if drop is not None:
            drop()


def _time(args: argparse.Namespace, url: str, directory: str) -> None:
    from affsrv import create_app
    from affsrv.extensions import db
    from tests.clickbank.support import add_cb_account, notification, post_ins
    from tests.helpers import add_affiliate, add_product

    app = create_app(overrides={
        "database": {"url": url}, "logs": {"dir": directory},
        "commissions": {"require_approval": False}, "mail": {"enabled": False}})
    with app.app_context():
        db.create_all()
    add_cb_account(app)
    add_product(app, sku="WIDGET-1", commission_rate="10")
    add_affiliate(app, code="annie")
    client = app.test_client()

    def ins(n: int, kind: str, amount: str) -> None:
        document = notification(
            transactionTime=f"2026-03-{1 + n % 28:02d}T10:{n % 60:02d}:00Z", receipt=f"W{n}",
            transactionType=kind, affiliate="annie", totalOrderAmount=amount,
            totalAccountAmount=amount, paymentMethod="VISA", currency="USD",
            customer={"billing": {"address": {"address1": "1 Main St", "city": "Town",
                                              "state": "CO", "postalCode": f"{n % 500:05d}",
                                              "country": "US"}}},
            lineItems=[{"itemNo": "WIDGET-1", "productTitle": "Item", "shippable": False,
                        "recurring": False, "accountAmount": amount, "quantity": 1,
                        "lineItemType": "ORIGINAL", "productPrice": amount,
                        "affiliatePayout": "0.00"}])
        answer = post_ins(client, document)
        assert answer.status_code == 200, answer.get_data(as_text=True)

    def batch(first: int, count: int) -> int:
        stored = 0
        for n in range(first, first + count):
            ins(n, "SALE", "50.00")
            stored += 1
            if n % 10 == 0:
                ins(n, "RFND", "-50.00")
                stored += 1
        return stored

    batch(0, args.warm)
    profiler = cProfile.Profile() if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    stored = batch(args.warm, args.sales)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    import affsrv

    variant = " without the rollup writes" if args.without_rollups else ""
    print(f"{Path(affsrv.__file__).parent}{variant} on {url.split(':')[0].split('+')[0]}: "
          f"{stored} notifications, "
          f"{cpu / stored * 1000:.2f} ms CPU and {wall / stored * 1000:.2f} ms wall each")
    if profiler:
        stats = pstats.Stats(profiler)
        rollups = 0.0
        for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items():
            if filename.endswith("reports/rollups.py") and name in {
                    "roll_up_order", "_on_commission_recorded", "_on_commission_reversed"}:
                rollups += cumulative
        overall = max(s[3] for s in stats.stats.values())
        print(f"  in affsrv.reports.rollups (roll_up_order and the commission handlers): "
              f"{rollups / stored * 1000:.2f} ms each under the profiler, "
              f"{100 * rollups / overall:.0f}% of the profiled time")


if __name__ == "__main__":
    main()
