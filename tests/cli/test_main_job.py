"""`cogbeh-gen` as a user runs it: the main job, its summary, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "cogbeh.cli.main"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_main_job_writes_the_run_folder_and_prints_a_summary(tmp_path: Path) -> None:
    done = cli("--behavior", "backtracking", "-n", "50", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "outputs" / "backtracking-n50-s0"
    assert done.stdout.strip() == str(Path("outputs") / "backtracking-n50-s0" / "records.jsonl")
    rows = [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]
    assert len(rows) == 50
    for key in ("id", "condition", "behaviors", "nums", "target", "prompt", "completion", "answer", "correct",
                "behavior_counts", "provider", "model", "seed", "index"):
        assert key in rows[0]
    assert (folder / "rejected.jsonl").exists() and (folder / "manifest.json").exists()
    for word in ("records", "correct", "backtracking", "length", "time"):
        assert word in done.stderr


def test_paper_alias_names_the_canonical_condition(tmp_path: Path) -> None:
    done = cli("--behavior", "backtracking_verification", "-n", "5", "--out", str(tmp_path / "o"), "-q")
    assert done.returncode == 0, done.stderr
    row = json.loads((tmp_path / "o" / "records.jsonl").read_text().splitlines()[0])
    assert row["condition"] == "backtracking+verification"


def test_existing_folder_is_left_untouched_without_resume_or_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    done = cli("-b", "all", "-n", "5", "--out", str(out))
    assert done.returncode == 2 and "--resume" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert cli("-b", "all", "-n", "5", "--out", str(out), "--overwrite", "-q").returncode == 0


BAD_INPUT = [
    (["-b", "backtracking", "-n", "0"], "-n"),
    (["-b", "backtracking", "-n", "-3"], "-n"),
    (["-b", "backtracking", "-n", "ten"], "-n"),
    (["-b", "backtracking"], "-n"),
    (["-b", "backtrack", "-n", "5"], "valid"),
    (["-b", "backtracking+", "-n", "5"], "dangling"),
    (["-b", "+verification", "-n", "5"], "dangling"),
    (["-b", "none", "-n", "5", "--backtracks", "3"], "--backtracks"),
    (["-b", "backtracking", "-n", "5", "--backtracks", "3-1"], "--backtracks"),
    (["-b", "backtracking", "-n", "5", "--backtracks", "x"], "--backtracks"),
    (["-b", "all", "-n", "5", "--preset", "huge"], "preset"),
    (["-b", "all", "-n", "5", "--provider", "gemini"], "provider"),
    (["-b", "all", "-n", "5", "--frobnicate"], "frobnicate"),
    (["-b", "all", "-n", "5", "--resume", "--overwrite"], "--resume"),
    (["-b", "all", "-n", "5", "--model", "claude-x"], "--provider"),
    (["-b", "backtracking", "-n", "5", "--backward-steps", "2"], "--backward-steps"),
    (["-b", "backward_chaining", "-n", "5", "--backward-steps", "3"], "--backward-steps"),
    (["-b", "all", "-n", "5", "--batch"], "--provider"),
    (["-b", "all", "-n", "5", "--provider", "openai"], "--model"),
    (["-b", "all", "-n", "5", "--provider", "openai", "--model", "m", "--backtracks", "2"], "--backtracks"),
    (["-b", "all", "-n", "5", "--provider", "openai", "--model", "m", "--workers", "2"], "--workers"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_nothing_created(tmp_path: Path, args: list[str], mentions: str) -> None:
    out = tmp_path / "never"
    done = cli(*args, "--out", str(out))
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert mentions.lower() in lines[0].lower()
    assert not out.exists()


def test_unwritable_out_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = cli("-b", "all", "-n", "5", "--out", str(blocker / "run"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_unknown_behavior_lists_the_valid_names(tmp_path: Path) -> None:
    done = cli("-b", "planning", "-n", "5", "--out", str(tmp_path / "o"))
    for name in ("verification", "backtracking", "subgoal_setting", "backward_chaining", "all_strategies"):
        assert name in done.stderr


def test_control_and_formats_from_the_main_job(tmp_path: Path) -> None:
    out = tmp_path / "o"
    done = cli("-b", "all", "-n", "40", "--control", "empty_cot", "--format", "trl", "--test-size", "10",
               "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "empty_cot" / "records.jsonl")
    source = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    derived = [json.loads(line) for line in (out / "empty_cot" / "records.jsonl").read_text().splitlines()]
    assert [r["problem_id"] for r in derived] == [r["problem_id"] for r in source]
    assert all(r["completion"].startswith("<think>\n</think>") and r["control"] == "empty_cot" for r in derived)
    import pyarrow.parquet as pq

    train = pq.read_table(out / "empty_cot" / "trl" / "train.parquet").to_pylist()
    test = pq.read_table(out / "empty_cot" / "trl" / "test.parquet").to_pylist()
    assert len(train) == 30 and len(test) == 10
    assert train[0]["prompt"].endswith("<think>") and isinstance(train[0]["completion"], str)  # TinyZero raw text
    assert not {tuple(r["nums"]) + (r["target"],) for r in train} & {tuple(r["nums"]) + (r["target"],) for r in test}


def test_incorrect_only_control_generates_wrong_answers_on_the_same_structure(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert cli("-b", "backtracking", "-n", "20", "--control", "no_positive", "--out", str(out), "-q").returncode == 0
    derived = [json.loads(line) for line in (out / "incorrect_only" / "records.jsonl").read_text().splitlines()]
    assert len(derived) == 20 and not any(r["correct"] for r in derived)


def test_length_matched_with_the_test_tokenizer_names_it(tmp_path: Path) -> None:
    out = tmp_path / "o"
    done = cli(
        "-b", "backtracking", "-n", "10", "--control", "dots", "--tokenizer", "test", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "length_matched" / "manifest.json").read_text())
    stats = manifest["control_stats"]
    assert stats["tokenizer"] == "test" and stats["test_tokenizer"] is True and stats["match_rate"] == 1.0
    assert "tokenizer 'test'" in done.stderr and "test tokenizer shipped" in done.stderr


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--control", "bogus"], "control"),
        (["--tokenizer", "x"], "--tokenizer"),
        (["--control", "length_matched"], "--tokenizer test"),  # no silent default tokenizer
        (["--control", "dots", "--tokenizer", "./missing/tok"], "no such file"),
        (["--format", "csv"], "--format"),
        (["--format", "trl", "--test-size", "abc"], "test"),
        (["--test-size", "5"], "--format"),
    ],
)
def test_bad_control_and_format_options(tmp_path: Path, args: list[str], mentions: str) -> None:
    done = cli("-b", "all", "-n", "5", *args, "--out", str(tmp_path / "never"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert mentions.lower() in done.stderr.lower() and not (tmp_path / "never").exists()
