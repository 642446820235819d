"""`cogbeh-gen classify --judge PROVIDER:MODEL [--compare]` against the fake server, through the real SDKs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from llm_helpers import CANARY, base_url


def _judge_answer(system: str, user: str) -> str:
    trace = user.split("TRACE START =====", 1)[1]
    if "garbled" in trace:
        return "I cannot say."
    return f"<count>{len(re.findall('Dead end', trace))}</count>"


def _rows(path: Path) -> None:
    rows = [
        {"condition": "backtracking", "completion": "<think>5 + 3 = 8. Dead end. Back to 5, 3, 4.\n4 * 8 = 32.</think>\n<answer>(5 + 3) * 4</answer>"},
        {"condition": "none", "completion": "<think>5 + 3 = 8. 8 * 4 = 32.</think>\n<answer>(5 + 3) * 4</answer>"},
        {"condition": "none", "completion": "<think>garbled</think>\n<answer>1</answer>"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_judge_counts_and_compares_with_the_rules(server_factory, tmp_path: Path, monkeypatch) -> None:
    server = server_factory(answer=_judge_answer)
    monkeypatch.setenv("OPENAI_BASE_URL", base_url(server, "openai"))
    data = tmp_path / "records.jsonl"
    _rows(data)
    command = [sys.executable, "-m", "cogbeh.cli.main", "classify", str(data), "--judge", "openai:gpt-4o-mini",
               "--compare", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["classifier"] == "openai:gpt-4o-mini"
    assert report["errors"] == 1 and report["records"] == 2  # the unparseable judge answer is an error, never a silent 0
    agreement = report["agreement_with_rules"]["backtracking"]
    assert agreement["compared"] == 2 and agreement["presence_agreement"] == 1.0
    assert CANARY not in done.stdout + done.stderr


def test_compare_without_judge_and_a_bad_judge_spec_are_one_line_errors(tmp_path: Path) -> None:
    data = tmp_path / "records.jsonl"
    _rows(data)
    for extra, mentions in ((["--compare"], "--judge"), (["--judge", "gemini"], "PROVIDER:MODEL")):
        done = subprocess.run([sys.executable, "-m", "cogbeh.cli.main", "classify", str(data), *extra],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and mentions in done.stderr and len(done.stderr.strip().splitlines()) == 1
