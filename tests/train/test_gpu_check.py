"""benchmarks/gpu_check.py stays runnable: its help, and the no-GPU path (a CPU smoke pass, exit 0)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_help_names_the_options() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert all(option in done.stdout for option in ("--tiny", "--size", "--json", "--workdir"))


@pytest.mark.slow
def test_without_a_gpu_it_says_so_and_runs_the_cpu_smoke_pass(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the full check would run")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", str(tmp_path / "f.json")], capture_output=True, text=True, timeout=400
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "No CUDA GPU visible" in done.stdout
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["device"] == "cpu" and figures["eval"]["device"] == "cpu"
    assert figures["sft"]["tokens_per_s"] > 0 and figures["eval"]["checkpoints"] == 2
    assert {"torch_peak_gb", "device_peak_gb"} <= set(figures["grpo"])
