"""Priming rows, RL prompts and problem sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.countdown import Problem, save_problems
from cogbeh.train.data import (
    DataError,
    load_priming,
    load_rl_problems,
    overlap,
    rl_prompt,
    rl_rows,
    split_hub_id,
    to_conversational,
)


def test_to_conversational_makes_trl_prompt_completion_rows(tmp_path: Path, make_run_folder) -> None:
    record = make_run_folder(tmp_path, 1)[0]
    row = to_conversational(record, style="chat")  # the default, tinyzero, is tested in test_prompt_format.py
    assert row["prompt"] == [{"role": "user", "content": record.prompt}]
    assert row["completion"] == [{"role": "assistant", "content": record.completion}]
    assert (row["nums"], row["target"]) == (record.nums, record.target)
    assert set(row) == {"prompt", "completion", "nums", "target"}


def test_to_conversational_rejects_rows_without_problem_columns() -> None:
    with pytest.raises(DataError, match="nums"):
        to_conversational({"prompt": "q", "completion": "c"})
    with pytest.raises(DataError, match="prompt"):
        to_conversational({"prompt": 3, "completion": "c", "nums": [1], "target": 1})


def test_load_priming_reads_a_run_folder_and_a_dataset_folder(tmp_path: Path, make_run_folder) -> None:
    import datasets

    records = make_run_folder(tmp_path / "run", 5)
    from_run = load_priming(tmp_path / "run")
    assert [p.id for p in from_run.problems] == [r.problem_id for r in records]
    datasets.Dataset.from_list([r.model_dump(exclude={"usage"}) for r in records]).save_to_disk(
        tmp_path / "ds"
    )
    from_folder = load_priming(tmp_path / "ds")
    assert from_folder.rows == from_run.rows


def test_load_priming_names_a_missing_source(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot load dataset"):
        load_priming(tmp_path / "missing")


def test_tinyzero_prompt_is_text_that_opens_the_think_block() -> None:
    text = rl_prompt(Problem((25, 30, 3, 4), 32))
    assert isinstance(text, str)
    assert text.startswith("A conversation between User and Assistant.")
    assert "25, 30, 3, 4" in text and "equals 32" in text
    assert text.endswith("Let me solve this step by step.\n<think>")


def test_chat_prompt_is_the_priming_query_as_a_user_turn() -> None:
    messages = rl_prompt(Problem((1, 2, 3), 6), style="chat")
    assert isinstance(messages, list) and messages[0]["role"] == "user"
    assert "<answer>" in messages[0]["content"]
    with pytest.raises(DataError, match="prompt style"):
        rl_prompt(Problem((1, 2, 3), 6), style="plain")  # type: ignore[arg-type]


def test_rl_rows_carry_the_reward_columns() -> None:
    rows = rl_rows([Problem((1, 2, 3), 6)])
    assert rows[0]["nums"] == [1, 2, 3] and rows[0]["target"] == 6


def test_rl_problems_from_preset_file_and_overlap(tmp_path: Path) -> None:
    sampled = load_rl_problems("tinyzero", n=7, seed=3)
    assert len(sampled) == 7
    save_problems(sampled, tmp_path / "p.jsonl")
    assert load_rl_problems(str(tmp_path / "p.jsonl"), n=5) == sampled[:5]
    reordered = Problem(tuple(reversed(sampled[0].nums)), sampled[0].target)
    assert overlap([reordered], sampled) == [sampled[0].id]
    (tmp_path / "bad.jsonl").write_text(json.dumps({"nums": "x"}) + "\n")
    with pytest.raises(DataError):
        load_rl_problems(str(tmp_path / "bad.jsonl"))


def test_split_hub_id() -> None:
    assert split_hub_id("user/name:all") == ("user/name", "all")
    assert split_hub_id("user/name") == ("user/name", None)


def test_a_corrupt_records_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "records.jsonl").write_text('{"not": "a record"}\n{"id": 1}\n')
    with pytest.raises(DataError, match="records.jsonl:1"):
        load_priming(tmp_path)
