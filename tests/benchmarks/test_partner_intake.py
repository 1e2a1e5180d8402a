"""The partner intake benchmark runs end to end (a small run: three partners over real HTTP,
batches, single filings, resends, a receiver failing a tenth of first deliveries) and counts
what it claims: its last line names every figure, and a resend answered with another number
is a duplicate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks import partner_intake

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(
    r"^partner_filings_per_s=(\d+\.\d) p99_ms=(\d+\.\d) duplicates_created=(\d+) "
    r"webhooks_lost=(\d+)$"
)


def test_a_small_run_files_every_dispute_once_and_loses_no_webhook(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "benchmarks/partner_intake.py", "--quick", "--disputes", "90"],
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
    rate, _, duplicates, lost = match.groups()
    assert float(rate) > 0 and (duplicates, lost) == ("0", "0")
    assert any("accepted 90" in line and "refused 0" in line for line in lines), lines
    # A tenth of first deliveries failed on purpose, and were sent again.
    assert any(re.search(r"[1-9]\d* first deliveries failed on purpose", line) for line in lines)


def test_a_resend_answered_with_another_number_counts_as_a_duplicate() -> None:
    tally = partner_intake.Tally()
    partner_intake._answered(tally, "k1", 201, {"case_number": "CNM-2026-I-00001"}, 5.0)
    partner_intake._answered(tally, "k1", 200, {"case_number": "CNM-2026-I-00002"}, 5.0)
    partner_intake._answered(tally, "k2", 422, {"error": "invalid_input"}, 5.0)
    assert sum(1 for numbers in tally.numbers.values() if len(numbers) > 1) == 1
    assert tally.refused and tally.refused[0].startswith("k2: 422")
