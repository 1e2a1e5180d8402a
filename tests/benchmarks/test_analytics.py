"""The analytics benchmark runs end to end (a small run: a few thousand generated cases,
written in bulk, recounted into the rollups, every dashboard view measured) and its last line
says what it measured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(r"^dashboard_p95_ms=(\d+\.\d) cases=(\d+)$")


def test_a_small_run_measures_every_view(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "benchmarks/analytics.py", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 0 and match.group(2) == "3000"
    assert any(line.startswith("figures recounted from 3000 cases") for line in lines), lines
    for view in ("funnel", "merchants by growth", "deadline compliance", "cases behind"):
        assert any(line.startswith(view) for line in lines), view
    assert any(line.startswith("baseline (PK read)") for line in lines)
