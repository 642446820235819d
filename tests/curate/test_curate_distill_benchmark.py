"""`benchmarks/curate.py --quick` runs end to end and writes its JSON (no timing is asserted)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "curate.py"


@pytest.mark.slow
def test_quick_benchmark_writes_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "curate.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "datasets.map(num_proc=2)" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["engines"]["documents"] == 1000 and figures["engines"]["ratio"] > 0
    assert figures["rules"]["docs_per_s"] > 0 and figures["rules"]["mean_tokens"] > 1000
    assert figures["fasttext"].get("docs_per_s", 0) > 0, figures["fasttext"]


def test_generated_documents_are_deterministic_and_mixed() -> None:
    spec = importlib.util.spec_from_file_location("curate_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    make_documents = module.make_documents
    first, again = make_documents(50, seed=1), make_documents(50, seed=1)
    assert first == again and make_documents(50, seed=2) != first
    assert all(8000 <= len(doc["text"].encode()) <= 9500 for doc in first)
    assert len({doc["text"][:200] for doc in first}) == 50
