"""``affsrv totals check`` and ``affsrv totals recount`` as an operator runs them, on a
database written through ``affsrv serve``: a totals row changed by hand is named by the
check (exit 1), the recount repairs it, and the check passes again (exit 0)."""

import subprocess
import sys

import requests

from tests.serving import Server, affsrv_output, run_affsrv, set_up_merchant


def _call(server, key, code, **call):
    answer = requests.post(f"{server.base}/api", json={"apikey": key, "affiliate": code,
                                                        **call}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _sql(tmp_path, env, statement):
    """Run one statement on the server's database as an operator would, with affsrv's own
    engine (no client program is assumed installed)."""
    script = ("import sys\nfrom sqlalchemy import text\nfrom affsrv import create_app\n"
              "from affsrv.extensions import db\napp = create_app()\n"
              "with app.app_context(), db.engine.begin() as conn:\n"
              "    conn.execute(text(sys.argv[1]))\n")
    done = subprocess.run([sys.executable, "-c", script, statement], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_check_names_a_total_changed_by_hand_and_recount_repairs_it(tmp_path, server_env):
    env = {**server_env, "AFFSRV_COMMISSIONS_REQUIRE_APPROVAL": "false"}
    merchant = set_up_merchant(tmp_path, env)
    key, code, product = merchant.key, merchant.code, merchant.product
    server = Server(tmp_path, env)
    try:
        for n, (sale, comm) in enumerate([("40.00", "10.00"), ("43.78", "12.13")]):
            _call(server, key, code, commission={"product": product, "saletotal": sale,
                                                 "commtotal": comm, "ref": f"o{n}"})
        _call(server, key, code, referrer={"url": "https://blog.example/a",
                                           "product": product})
        affsrv_output(["payment", "add", "--affiliate", code, "--method", "PayPal",
                       "--amount", "24.66"], tmp_path, env)
        done = run_affsrv(["totals", "check"], tmp_path, env)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "every kept total equals the sum of its rows" in done.stdout
        before = _call(server, key, code, data={"op": "commissions"})["data"]
        assert before[product]["sale_total"] == "83.78"

        _sql(tmp_path, env, "UPDATE commission_totals SET sale_total = 0")
        _sql(tmp_path, env, "DELETE FROM payment_totals")
        _sql(tmp_path, env, "UPDATE click_counts SET clicks = 7")
        assert _call(server, key, code, data={"op": "commissions"})["data"] != before
        done = run_affsrv(["totals", "check"], tmp_path, env)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stdout.splitlines()
        assert len(lines) == 3, lines
        assert lines[0].startswith("commission_totals affiliate_id="), lines
        assert f"currency=USD product_id={product}:" in lines[0], lines
        assert ": kept commissions=2, sale_total=0.00, commission_total=22.13," in lines[0]
        assert "the rows give commissions=2, sale_total=83.78, commission_total=22.13," in \
            lines[0], lines
        assert lines[1].startswith("payment_totals affiliate_id=") and \
            "currency=USD method=PayPal: kept nothing, the rows give payments=1" in lines[1], lines
        assert lines[2].startswith("click_counts affiliate_id=") and "clicks=7" in lines[2]

        done = run_affsrv(["totals", "recount"], tmp_path, env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "commission_totals: 1 row(s) written", "payment_totals: 1 row(s) written",
            "click_counts: 1 row(s) written"]
        done = run_affsrv(["totals", "check"], tmp_path, env)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert _call(server, key, code, data={"op": "commissions"})["data"] == before
        assert _call(server, key, code, data={"op": "payments"})["data"]["PayPal"][
            "payment_total"] == "24.66"
    finally:
        server.stop()
