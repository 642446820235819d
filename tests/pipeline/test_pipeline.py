"""The main job's pipeline: exact counts, validation, byte-identical output, resume, workers."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from cogbeh.behaviors import BEHAVIORS, PAPER_CONDITIONS, parse_condition
from cogbeh.countdown import Problem, check, sample_problems
from cogbeh.pipeline import GenerationError, JobConfig, run, shape_for
from cogbeh.records import read_records
from cogbeh.validate import false_statements, think_block


def config(tmp: Path, condition: str = "all", n: int = 30, **kwargs: object) -> JobConfig:
    return JobConfig(behaviors=parse_condition(condition), n=n, out=tmp, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("condition", PAPER_CONDITIONS)
def test_each_paper_condition_gives_exactly_n_valid_records(tmp_path: Path, condition: str) -> None:
    result = run(config(tmp_path / "run", condition, n=40))
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    assert len(records) == 40 and len({r.id for r in records}) == 40
    wanted = parse_condition(condition)
    for record in records:
        assert record.condition == condition and record.provider == "symbolic" and record.model is None
        assert record.correct and check(record.answer, record.nums, record.target)
        assert false_statements(think_block(record.completion) or "") == []
        for behavior in BEHAVIORS:
            assert (record.behavior_counts[behavior] > 0) == (behavior in wanted), (behavior, record.completion)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["counts"]["accepted"] == 40
    assert manifest["counts"]["attempted"] == 40 + manifest["counts"]["rejected"]
    assert manifest["template_hashes"]["traces"] and manifest["versions"]["cogbeh-gen"]
    assert result.manifest == manifest


def test_incorrect_mode_labels_every_record_wrong(tmp_path: Path) -> None:
    run(config(tmp_path / "run", "backtracking+verification", n=25, incorrect=True))
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    assert len(records) == 25
    assert all(not r.correct and not check(r.answer, r.nums, r.target) for r in records)
    assert all(false_statements(think_block(r.completion) or "") == [] for r in records)


def test_backtrack_count_is_controllable(tmp_path: Path) -> None:
    run(config(tmp_path / "run", "backtracking", n=20, backtracks=(3, 3)))
    counts = [r.behavior_counts["backtracking"] for r in read_records(tmp_path / "run" / "records.jsonl")]
    assert counts == [3] * 20


def test_backward_chain_length_is_controllable(tmp_path: Path) -> None:
    from cogbeh.traces.planner import plan

    result = run(config(tmp_path / "run", "backward_chaining", n=30, backward_steps=(2, 2)))
    wanted = config(tmp_path / "x", "backward_chaining", backward_steps=(2, 2))
    for record in result.records:
        # Replaying the record's own random stream: the planner laid out exactly two backward steps.
        rng = random.Random(f"0:backward_chaining:0:{record.index}")
        laid_out = plan(Problem(tuple(record.nums), record.target), shape_for(wanted, rng), rng)
        assert sum(step.kind == "backward" for step in laid_out.steps) == 2
    counts = [r.behavior_counts["backward_chaining"] for r in result.records]
    assert sum(c == 2 for c in counts) >= 0.9 * len(counts)


def test_same_config_gives_identical_bytes_for_any_worker_count(tmp_path: Path) -> None:
    run(config(tmp_path / "a", n=700))
    # n=700 stops in the middle of the workers' second batch: the pool must shut down cleanly, not hang.
    command = [sys.executable, "-m", "cogbeh.cli.main", "-b", "all", "-n", "700", "--workers", "2",
               "--out", str(tmp_path / "b"), "-q"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    assert (tmp_path / "a" / "records.jsonl").read_bytes() == (tmp_path / "b" / "records.jsonl").read_bytes()


def test_identical_bytes_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [sys.executable, "-m", "cogbeh.cli.main", "-b", "all", "-n", "25", "--out", str(out), "-q"]
        subprocess.run(command, check=True, env=env, capture_output=True)
        outputs.append((out / "records.jsonl").read_bytes())
    assert outputs[0] == outputs[1]


def test_resume_completes_a_torn_run_without_duplicates(tmp_path: Path) -> None:
    run(config(tmp_path / "fresh", n=30))
    partial = tmp_path / "partial"
    run(config(partial, n=30))
    lines = (partial / "records.jsonl").read_text().splitlines(keepends=True)
    (partial / "records.jsonl").write_text("".join(lines[:12]) + lines[12][:40])  # a crash mid-write
    run(config(partial, n=30, resume=True))
    assert (partial / "records.jsonl").read_bytes() == (tmp_path / "fresh" / "records.jsonl").read_bytes()


def test_resume_of_a_finished_run_changes_nothing(tmp_path: Path) -> None:
    run(config(tmp_path / "run", n=10))
    before = (tmp_path / "run" / "records.jsonl").read_bytes()
    run(config(tmp_path / "run", n=10, resume=True))
    assert (tmp_path / "run" / "records.jsonl").read_bytes() == before


def test_attempt_budget_stops_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="accepted"):
        run(config(tmp_path / "run", n=30, max_attempts=5))
    assert len(list(read_records(tmp_path / "run" / "records.jsonl"))) <= 5


def test_excluded_problems_never_appear(tmp_path: Path) -> None:
    banned = tuple(sample_problems(50, preset="paper", seed=0))
    run(config(tmp_path / "run", n=40, exclude=banned))
    ids = {r.problem_id for r in read_records(tmp_path / "run" / "records.jsonl")}
    assert not ids & {p.id for p in banned}
