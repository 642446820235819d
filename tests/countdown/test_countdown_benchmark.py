"""Smoke test: the Countdown benchmark runs and prints its tables (timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_run_prints_the_tables() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "countdown.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    for heading in ("W1", "W3", "W4", "measure", "ours", "baseline", "ratio"):
        assert heading in run.stdout
