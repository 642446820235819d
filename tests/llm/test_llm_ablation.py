"""An ablation through a paid provider: the LLM engine under the ablation's fixed-problem-list contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llm_helpers import base_url

from cogbeh.records import read_records

SPEC = """\
name: tiny-llm
seed: 3
provider: openai
model: gpt-4o-mini
n_train: 6
n_test: 2
conditions:
  - behavior: none
  - control: empty_cot
    source: none
"""


def test_llm_ablation_runs_on_shared_problems_and_adds_up_cost(server_factory, tmp_path: Path, monkeypatch) -> None:
    server = server_factory()
    monkeypatch.setenv("OPENAI_BASE_URL", base_url(server, "openai"))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "abl"
    done = subprocess.run([sys.executable, "-m", "cogbeh.cli.main", "ablation", str(spec), "--out", str(out), "-q"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    source = list(read_records(out / "none" / "records.jsonl"))
    control = list(read_records(out / "empty_cot" / "records.jsonl"))
    assert len(source) == 8 and all(r.provider == "openai" and r.model == "gpt-4o-mini" for r in source)
    assert [r.problem_id for r in control] == [r.problem_id for r in source]
    assert manifest["provider"] == "openai" and manifest["cost"]["requests"] >= 8
    assert manifest["cost"]["usd"] > 0 and server.answered >= 8
    # A rerun with --resume pays for nothing new.
    answered = server.answered
    rerun = [sys.executable, "-m", "cogbeh.cli.main", "ablation", str(spec), "--out", str(out), "--resume", "-q"]
    assert subprocess.run(rerun, capture_output=True, text=True, timeout=180).returncode == 0
    assert server.answered == answered


def test_llm_ablation_without_a_key_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    done = subprocess.run([sys.executable, "-m", "cogbeh.cli.main", "ablation", str(spec), "--out", str(tmp_path / "a")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "OPENAI_API_KEY" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "a").exists()
