"""bench/inprocess.py end to end at a tiny scale on SQLite, so it cannot silently rot: every
path answers as it should (the script checks each answer) and gets its row; no speed is
asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_inprocess_prints_a_row_per_path(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "inprocess.py"), "--db", "sqlite",
         "--affiliates", "50", "--commissions", "500", "--clicks", "2000",
         "--requests", "20", "--rounds", "1"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows[1:]]
    assert names == ["landing", "info", "commissions", "commissions-product", "payments",
                     "referrals"]


def test_inprocess_ladder_prints_each_step_and_affsrv_per_path(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFFSRV_")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "inprocess.py"), "--db", "sqlite",
         "--affiliates", "50", "--commissions", "500", "--clicks", "2000",
         "--requests", "20", "--rounds", "1", "--ladder", "--only", "landing",
         "--only", "payments", "--fastest"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    tables = done.stdout.split("\n\n")
    rows = [line.split("|")[1:3] for line in tables[-2].splitlines()[2:]
            if line.startswith("| ")]
    assert [(path.strip(), step.strip()) for path, step in rows] == [
        ("landing", "redirect"), ("landing", "lookup"), ("landing", "click"),
        ("payments", "floor"), ("payments", "body"), ("payments", "key"), ("payments", "limit"),
        ("payments", "directory"), ("payments", "answer"),
        ("landing", "affsrv"), ("payments", "affsrv"),
    ]
    ceilings = [line.split("|")[1].strip() for line in tables[-1].splitlines()[2:]]
    assert ceilings == ["landing", "payments"]
