"""The report benchmark (bench/reports.py) end to end at a tiny scale, so the script cannot
silently rot. It asserts that the script runs and prints every report's row, never how fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_report_benchmark_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "reports.py"),
         "--url", f"sqlite:///{tmp_path / 'bench.db'}", "--orders", "300", "--clicks", "900",
         "--repeat", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "seeding 300 orders and 900 clicks over 730 days" in lines
    table = lines[lines.index(next(x for x in lines if x.startswith("report"))) + 1:]
    assert table[-1].startswith("load average after: ")
    table = table[:-1]
    names = [line[:52].strip() for line in table]
    assert names == [
        *(f"sales by {by}, 730 days" for by in (
            "country", "state", "postal", "day", "hour", "weekday", "weekday-hour", "product",
            "affiliate", "account", "method")),
        "sales by day, 31 days, Asia/Kathmandu",
        "sales by day, 730 days, America/New_York",
        "sales by weekday-hour, 730 days, Asia/Kolkata",
        "sales by day, 730 days, Asia/Kolkata",
        "affiliates by day, 730 days, Asia/Kolkata",
        "sales by country, 31 days, filtered by affiliate",
        "sales by country, 730 days, filtered by affiliate",
        "sales by day, 730 days, filtered by affiliate",
        "sales by country, 730 days, filtered by product",
        "sales by country, 31 days, filtered by account",
        "sales by country, 730 days, filtered by account",
        "sales by day, 730 days, filtered by account",
        "sales by product, 730 days, filtered by country",
        *(f"affiliates by {by}, 730 days" for by in (
            "affiliate", "product", "link", "day", "country")),
        "affiliates by product, 730 days, filtered by country",
        *(f"affiliates by {by}, {days} days, one affiliate"
          for days in (31, 730) for by in ("day", "product")),
        "today (America/New_York)",
    ]
    floors = set()
    for line in table:
        p50, p99, cpu, service, rows, *floor = line[52:].split()
        assert float(p50) > 0 and float(p99) >= float(p50) and float(cpu) >= 0
        assert float(service) >= 0
        assert int(rows) >= 0
        if floor:
            floors.add(line[:52].strip())
            assert float(floor[0]) > 0 and float(floor[1]) >= 0
    assert floors == {"sales by postal, 730 days", "sales by affiliate, 730 days",
                      "affiliates by affiliate, 730 days", "affiliates by link, 730 days"}


def test_a_second_run_reuses_the_rollups_and_prints_ratios_to_the_first(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    common = [sys.executable, str(REPO / "bench" / "reports.py"),
              "--url", f"sqlite:///{tmp_path / 'bench.db'}", "--orders", "200", "--repeat", "1"]
    saved = tmp_path / "first.json"
    for extra in (["--save", str(saved)], ["--against", str(saved)]):
        result = subprocess.run([*common, *extra], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr
    assert "reusing the seeded rollups (200 orders)" in result.stdout
    header = next(x for x in result.stdout.splitlines() if x.startswith("report"))
    assert header.split()[-3:] == ["ratio", "cpu", "r"]
    row = next(x for x in result.stdout.splitlines() if x.startswith("sales by postal"))
    wall_ratio, cpu_ratio = row.split()[-2:]
    assert float(wall_ratio) > 0 and float(cpu_ratio) >= 0


def test_write_cost_script_times_sales_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    """bench/report_write_cost.py at a tiny scale, on SQLite and on a new PostgreSQL database
    (it drops it after): one line of figures each, naming the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    for extra, name in (([], "sqlite"),
                        (["--pg-url", "postgresql://postgres@127.0.0.1:5432/test"],
                         "postgresql")):
        result = subprocess.run(
            [sys.executable, str(REPO / "bench" / "report_write_cost.py"), "--tree", str(REPO),
             "--sales", "10", "--warm", "2", *extra],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr
        line = result.stdout.strip().splitlines()[-1]
        assert f" on {name}: 11 notifications, " in line, line  # and a refund after the 10th
        assert line.endswith(" ms wall each"), line
