"""Every paper condition, both modes, and every control derived from them: the written records pass the
auditor as a user would run it (read back from disk, no typed steps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogbeh.ablation import derive_run
from cogbeh.audit import audit_record
from cogbeh.behaviors import PAPER_CONDITIONS, parse_condition
from cogbeh.pipeline import JobConfig, run
from cogbeh.records import read_records

CONTROLS = ("cue_stripped", "shuffled_steps", "empty_cot", "length_matched", "incorrect_only")


@pytest.mark.parametrize("incorrect", [False, True], ids=["correct", "incorrect"])
@pytest.mark.parametrize("condition", PAPER_CONDITIONS)
def test_written_records_and_their_controls_pass_the_auditor(condition: str, incorrect: bool, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    result = run(JobConfig(behaviors=parse_condition(condition), n=40, out=folder, seed=11, incorrect=incorrect))
    least = 1 if "backtracking" in parse_condition(condition) else 0
    for record in read_records(folder / "records.jsonl"):
        assert audit_record(record, min_backtracks=least) == [], record.completion
    # Rejections at generation are for problems that cannot carry the structure, never for unsound text.
    assert "audit" not in result.manifest["counts"]["rejected_by_reason"]
    for control in CONTROLS:
        if control == "incorrect_only" and not incorrect:
            continue
        derive_run(folder, control, folder / control, tokenizer="test")
        derived = list(read_records(folder / control / "records.jsonl"))
        assert derived and all(audit_record(r) == [] for r in derived), control
        if control == "cue_stripped":
            assert all(not any(r.behavior_counts.values()) for r in derived)
