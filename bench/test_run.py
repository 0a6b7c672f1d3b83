"""The benchmark (bench/run.py) end to end at a tiny scale, so the script cannot silently rot.

It asserts that the script runs and prints every row, never how fast anything is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
ROWS = (
    "bare Flask redirect",
    "bare Flask JSON echo",
    "landing link /r/<code>",
    "Data API info",
    "Data API commissions",
    "Data API commissions (product)",
    "Data API payments",
    "Data API referrals",
)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}


def _run_bench(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``bench/run.py`` on SQLite, 1-second runs without warm-up, tables into ``tmp_path``."""
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed; the benchmark needs it: `sudo apt-get install -y wrk`")
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--db", "sqlite", "--duration", "1",
         "--warmup", "0", "--rounds", "1", "--results", str(tmp_path), *args],
        capture_output=True, text=True, timeout=300, env=_clean_env(), cwd=tmp_path,
    )


def _run_parts(tmp_path: Path, part: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``bench/parts.py PART`` on the database the end-to-end run kept in ``tmp_path``."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "parts.py"), part,
         "--url", f"sqlite:///{tmp_path / 'b.db'}", *args],
        capture_output=True, text=True, timeout=120, env=_clean_env(), cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_benchmark_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    done = _run_bench(
        tmp_path, "--affiliates", "50", "--products", "5", "--commissions", "500",
        "--clicks", "2000", "--connections", "4", "--keep", "--sqlite-path", str(tmp_path / "b.db"),
        "--depths", "10,300",
        # Landing runs last at least 10 flush intervals: 1 s here.
        "--set", "tracking.click_flush_ms=100",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    header = ("| target | requests/s | p50 ms | p99 ms | app CPU us/req | db CPU us/req "
              "| ratio to bare |")
    assert header in done.stdout, output
    for row in ROWS:
        line = next((x for x in done.stdout.splitlines() if x.startswith(f"| {row} |")), None)
        assert line is not None, f"no row {row!r}:\n{output}"
        cells = [c.strip() for c in line.strip("|").split("|")]
        # The app's CPU per request was measured (a number); SQLite has no database process.
        assert cells[4].replace(".", "").isdigit() and cells[5] == "-", line
    for op, rows in (("commissions", "commissions"), ("commissions (product)", "commissions"),
                     ("payments", "payments")):
        for depth in ("10", "300"):
            row = f"| Data API {op}, affiliate with {depth} {rows} |"
            assert row in done.stdout, f"no row {row!r}:\n{output}"
        line = next(x for x in done.stdout.splitlines()
                    if x.startswith(f"| depth: Data API {op}, ratio at 300 / ratio at 10 |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[6]) > 0 and cells[7] == "0.95" and cells[8] in ("pass", "FAIL")
    written = list(tmp_path.glob("bench-*-sqlite.md"))
    assert len(written) == 1 and "| Data API referrals |" in written[0].read_text()

    # bench/parts.py measures a part on the database the run kept (its figure is not checked).
    parts = _run_parts(tmp_path, "clicks", "--affiliates", "50", "--products", "5",
                       "--batches", "2")
    assert parts.stdout.count("us of CPU per click") == 2, parts.stdout
    # The run seeded the click counts, and the clicks parts wrote were counted too.
    import sqlite3

    with contextlib.closing(sqlite3.connect(tmp_path / "b.db")) as conn:
        counted = conn.execute("SELECT SUM(clicks) FROM click_counts").fetchone()[0]
        clicks = conn.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
    assert counted == clicks > 2000
    # The seed built the kept totals (its load bypassed their triggers) as affsrv keeps them.
    check = subprocess.run(
        [sys.executable, "-m", "affsrv", "totals", "check"], capture_output=True, text=True,
        timeout=120, cwd=tmp_path,
        env={**_clean_env(), "AFFSRV_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"})
    assert check.returncode == 0, check.stdout + check.stderr
    directory = _run_parts(tmp_path, "directory")
    # 50 affiliates and the two of the depth rows
    assert "affiliate directory: 52 affiliates, " in directory.stdout, directory.stdout
    # Last: it adds an affiliate.
    top = _run_parts(tmp_path, "top-affiliate", "--products", "5", "--clicks", "3000",
                     "--count", "2")
    assert "3,000 clicks written" in top.stdout and "2 referrals calls" in top.stdout, top.stdout
    encode = _run_parts(tmp_path, "encode", "--affiliates", "50", "--count", "20")
    assert "20 referrals answers of " in encode.stdout, encode.stdout
    assert encode.stdout.count("us of CPU per answer") == 2, encode.stdout
    money = _run_parts(tmp_path, "money", "--affiliates", "50", "--count", "20")
    assert money.stdout.count("amounts per commissions answer: ") == 3, money.stdout
    drain = _run_parts(tmp_path, "drain", "--count", "20")
    assert drain.stdout.count("drain_body on a landing link's GET: ") == 3, drain.stdout
    ops = _run_parts(tmp_path, "ops", "--affiliates", "50", "--count", "20", "--rounds", "2")
    assert ops.stdout.count("us of this process's CPU per call") == 4, ops.stdout
    steps = _run_parts(tmp_path, "steps", "--count", "20", "--rounds", "2")
    assert "is_valid_api_key: " in steps.stdout, steps.stdout
    assert "the wrong-key limit's test: " in steps.stdout, steps.stdout


def _run_module() -> ModuleType:  # bench/run.py is a script, not part of the package
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_set_passes_checked_settings_to_affsrv() -> None:
    run = _run_module()
    env = run.settings_env(["tracking.click_flush_ms=500", "server.cache_seconds=0"])
    assert env == {"AFFSRV_TRACKING_CLICK_FLUSH_MS": "500", "AFFSRV_SERVER_CACHE_SECONDS": "0"}
    assert run.click_flush_seconds(env) == 0.5
    for wrong, message in (
        ("tracking.nope=1", "AFFSRV_TRACKING_NOPE"),
        ("tracking.click_flush_ms=soon", "expected a whole number"),
        ("click_flush_ms=500", "expected section.key=value"),
        ("database.url=sqlite://", "the benchmark chooses the database"),
    ):
        with pytest.raises(SystemExit, match=message):
            run.settings_env([wrong])


def test_a_reused_postgresql_database_is_never_dropped() -> None:
    # A database seeded by an earlier run (--reuse) stays for the next comparison; only one the
    # run created itself is dropped (unless --keep). No connection is needed to decide.
    run = _run_module()
    args = run.parse_args(["--db", "postgresql", "--reuse", "--pg-database", "kept_bench",
                           "--pg-url", "postgresql://postgres@127.0.0.1:1/postgres"])
    url, drop = run._postgres_database(args)
    assert url == "postgresql://postgres@127.0.0.1:1/kept_bench"
    assert drop is None


def test_only_measures_the_named_targets_with_their_baseline(tmp_path: Path) -> None:
    done = _run_bench(
        tmp_path, "--affiliates", "20", "--products", "3", "--commissions", "100",
        "--clicks", "200", "--connections", "2", "--only", "landing",
        "--set", "tracking.click_flush_ms=300",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    rows = [x.split("|")[1].strip() for x in done.stdout.splitlines() if x.startswith("| ")]
    assert rows == ["target", "bare Flask redirect", "landing link /r/<code>"], output
    assert "`--set tracking.click_flush_ms=300`" in done.stdout, output
    # At least 10 click flush intervals per landing run (3 s), 1 s per Data API run.
    assert "-d1s (landing and redirect runs -d3s)" in done.stdout, output


def test_table_names_the_landing_run_length_only_when_it_measured_the_landing_link() -> None:
    run = _run_module()
    args = run.parse_args(["--duration", "5", "--set", "tracking.click_flush_ms=1000"])
    scale = run.Scale(10, 2, 10, 10, 10)
    figures = {"rps": [100.0], "p50": [1.0], "p99": [2.0], "app_cpu": [300.0], "db_cpu": [0.0]}

    def results(*targets):
        out = {}
        for target in targets:
            out[target.name] = run.Result(**figures, ratios=[0.5] if target.subject else [])
        return out

    api_only = run.render_table("sqlite", args, scale, results(run.BARE_ECHO, run.SUBJECTS[1]), 0)
    assert "wrk -t2 -c32 -d5s, median of 5 paired rounds" in api_only
    assert "| Data API info |" in api_only and "landing" not in api_only
    both = run.render_table(
        "sqlite", args, scale, results(run.BARE_REDIRECT, run.SUBJECTS[0]), 0
    )
    # 10 flush intervals of 1 s.
    assert "-d5s (landing and redirect runs -d10s), median of 5" in both


def test_floor_measures_the_echo_plus_each_part_against_the_echo(tmp_path: Path) -> None:
    done = _run_bench(
        tmp_path, "--affiliates", "20", "--products", "3", "--commissions", "100",
        "--clicks", "200", "--connections", "2", "--only", "payments", "--floor",
        "--depths", "5,50",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = [x for x in done.stdout.splitlines() if x.startswith("| ")]
    rows = [x.split("|")[1].strip() for x in lines]
    assert rows == [
        "target", "bare Flask JSON echo", "Data API payments",
        "Data API payments, affiliate with 5 payments",
        "Data API payments, affiliate with 50 payments",
        "floor: echo + one database round trip (SELECT 1)",
        "floor: echo + the call's schema load",
        "floor: echo + schema load + the payments query",
        *(f"{name}, payments" for name in _run_module().LADDER_NAMES.values()),
        "depth: Data API payments, ratio at 50 / ratio at 5",
        "ceiling: Data API payments, required floor / its floor",
        "Data API payments / its required floor",
    ], output
    for line in lines[5:8]:  # a ratio to the echo, no target of their own
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[6]) > 0 and cells[7:] == ["-", "floor"], line
    for line in lines[8:14]:  # the required floor's steps: the same
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[6]) > 0 and cells[7:] == ["-", "required floor"], line
    # The op's target is a share of its floor's ratio, measured in the same rounds.
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert 0 < float(cells[7]) <= float(lines[7].split("|")[7]) and cells[8] in ("pass", "FAIL")
    for line in lines[-2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[6]) > 0 and cells[8] in ("ceiling", "gap"), line


def test_an_op_is_judged_against_its_floor_and_flatness_against_its_shallowest_row() -> None:
    run = _run_module()
    args = run.parse_args(["--floor", "--depths", "10,100000"])
    scale = run.Scale(10, 2, 10, 10, 10, depths=args.depths)
    figures = {"rps": [100.0], "p50": [1.0], "p99": [2.0], "app_cpu": [300.0], "db_cpu": [0.0]}
    op = run.SUBJECTS[4]  # payments
    shallow, deep = run.depth_targets([op], scale)
    floor = next(t for t in run.floor_targets([op]) if t.floor == "payments")
    ratios = {op.name: 0.55, shallow.name: 0.60, deep.name: 0.57, floor.name: 0.60}
    results = {name: run.Result(**figures, ratios=[ratio]) for name, ratio in ratios.items()}
    results[run.BARE_ECHO.name] = run.Result(**figures)
    table = run.render_table("postgresql", args, scale, results, 0)
    assert "| Data API payments | 100 | 1.00 | 2.00 | 300 | 0 | 0.55 | 0.54 | pass |" in table
    assert ("| depth: Data API payments, ratio at 100,000 / ratio at 10 | - | - | - | - | - "
            "| 0.95 | 0.95 | pass |") in table
    results[op.name].ratios, results[deep.name].ratios = [0.53], [0.56]
    table = run.render_table("postgresql", args, scale, results, 0)
    assert "| 0.53 | 0.54 | FAIL |" in table and "| 0.93 | 0.95 | FAIL |" in table


def test_the_ceiling_is_the_required_floor_over_the_floor_and_the_gap_affsrv_over_it() -> None:
    run = _run_module()
    args = run.parse_args(["--floor"])
    scale = run.Scale(10, 2, 10, 10, 10, depths=())
    figures = {"rps": [100.0], "p50": [1.0], "p99": [2.0], "app_cpu": [300.0], "db_cpu": [0.0]}
    landing, payments = run.SUBJECTS[0], run.SUBJECTS[4]
    steps = {t.ladder: t for t in run.ladder_targets([landing, payments])}
    assert list(steps) == [*run.LANDING_LADDER_NAMES,
                           *(f"{step}/payments" for step in run.LADDER_NAMES)]
    assert steps["click"].path == "/ladder/click" and steps["click"].redirect_path == (
        "/ladder/click/r/")
    assert steps["answer/payments"].path == "/ladder/answer/payments"
    assert not any(t.on_affsrv for t in steps.values())
    ratios = {landing.name: 0.70, payments.name: 0.54, steps["redirect"].name: 0.96,
              steps["click"].name: 0.72, steps["floor/payments"].name: 0.80,
              steps["answer/payments"].name: 0.62}
    results = {name: run.Result(**figures, ratios=[ratio]) for name, ratio in ratios.items()}
    table = run.render_table("sqlite", args, scale, results, 0)
    assert ("| ceiling: landing link /r/<code>, required floor / its floor | - | - | - | - | - "
            "| 0.75 | - | ceiling |") in table
    assert "| landing link /r/<code> / its required floor | - | - | - | - | - | 0.97 |" in table
    assert ("| ceiling: Data API payments, required floor / its floor | - | - | - | - | - "
            "| 0.77 | - | ceiling |") in table
    assert "| Data API payments / its required floor | - | - | - | - | - | 0.87 |" in table
