"""Formats: every writer round-trips, splits are by problem and seeded, excluded problems never get through."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cogbeh.countdown import Problem, save_problems
from cogbeh.formats import (
    FORMATS,
    ExportError,
    export,
    held_out_count,
    record_features,
    row_record,
    split_by_problem,
    to_trl_conversational,
    to_trl_row,
    verl_row,
)
from cogbeh.pipeline import JobConfig, run
from cogbeh.records import Record


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    out = tmp_path_factory.mktemp("run")
    made = run(JobConfig(behaviors=frozenset({"backtracking", "verification"}), n=24, out=out)).records
    # Two records on one problem: a split must keep them together.
    return [*made, made[0].model_copy(update={"id": f"{made[0].id}-twin"})]


@pytest.fixture(scope="module")
def exported(records: list[Record], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("export")
    return folder, export(folder, records, list(FORMATS), test_size=0.25, seed=7)


def _read(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_parquet_round_trip_gives_back_the_records(records: list[Record], exported: tuple[Path, dict]) -> None:
    folder, summary = exported
    back = [row_record(row) for split in ("train", "test") for row in _read(folder / "parquet" / f"{split}.parquet")]
    assert sorted(back, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)
    assert summary["rows"] == {"train": len(records) - len(_read(folder / "parquet/test.parquet")),
                               "test": len(_read(folder / "parquet/test.parquet"))}


def test_saved_datasetdict_round_trip(records: list[Record], exported: tuple[Path, dict]) -> None:
    import datasets

    loaded = datasets.load_from_disk(str(exported[0] / "dataset"))
    assert set(loaded) == {"train", "test"}
    assert loaded["train"].features == record_features()
    back = [row_record(row) for split in loaded.values() for row in split]
    assert sorted(back, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)


def test_trl_rows_are_prompt_completion_in_the_training_format(records: list[Record],
                                                                exported: tuple[Path, dict]) -> None:
    rows = _read(exported[0] / "trl/train.parquet") + _read(exported[0] / "trl/test.parquet")
    by_prompt = {json.dumps(to_trl_row(r), sort_keys=True) for r in records}  # TinyZero raw text by default
    assert {json.dumps(row, sort_keys=True) for row in rows} == by_prompt
    first = rows[0]
    assert isinstance(first["prompt"], str) and first["prompt"].endswith("<think>")
    assert set(first) == {"prompt", "completion", "nums", "target"}
    chat = to_trl_conversational(records[0])  # the chat style's rows are conversational turns
    assert chat["prompt"][0]["role"] == "user" and chat["completion"][0]["role"] == "assistant"


def test_verl_rows_carry_the_rule_reward_ground_truth(records: list[Record], exported: tuple[Path, dict]) -> None:
    rows = _read(exported[0] / "verl/test.parquet")
    assert rows and all(row["extra_info"]["split"] == "test" for row in rows)
    assert [row["extra_info"]["index"] for row in rows] == list(range(len(rows)))
    row = rows[0]
    problem = Problem(tuple(row["reward_model"]["ground_truth"]["numbers"]), row["reward_model"]["ground_truth"]["target"])
    assert row == verl_row(problem, row["prompt"][0]["content"], split="test", index=0)
    assert row["data_source"] == "countdown" and row["ability"] == "math" and row["reward_model"]["style"] == "rule"


def test_no_problem_is_in_two_splits(exported: tuple[Path, dict]) -> None:
    folder, summary = exported
    train = {r["problem_id"] for r in _read(folder / "parquet/train.parquet")}
    test = {r["problem_id"] for r in _read(folder / "parquet/test.parquet")}
    assert train and test and not train & test
    assert sorted(test) == summary["test_problems"]
    assert json.loads((folder / "splits.json").read_text())["test_problems"] == summary["test_problems"]


def test_split_is_seeded_and_the_same_for_the_same_problems() -> None:
    ids = [f"p{i}" for i in range(50)]
    first = split_by_problem(ids, 10, seed=1)
    assert first == split_by_problem(list(reversed(ids)) + ids[:5], 10, seed=1)  # order and repeats don't matter
    assert sum(v == "test" for v in first.values()) == 10
    assert first != split_by_problem(ids, 10, seed=2)


@pytest.mark.parametrize(("size", "expected"), [(0, 0), (5, 5), (0.2, 10), (0.0, 0)])
def test_test_size_as_count_or_fraction(size: float, expected: int) -> None:
    assert held_out_count(50, size) == expected


@pytest.mark.parametrize(("size", "message"), [(-1, "count or a fraction"), (1.5, "neither a whole count"),
                                               (50, "leaves no training"), (True, "count or a fraction")])
def test_bad_test_size_is_refused(size: float, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        held_out_count(50, size)


def test_unknown_format_is_refused(records: list[Record], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown format 'csv'"):
        export(tmp_path, records, ["parquet", "csv"])


def test_excluded_problems_are_refused(records: list[Record], tmp_path: Path) -> None:
    from cogbeh.countdown import load_problems

    path = save_problems([Problem(tuple(records[3].nums), records[3].target)], tmp_path / "rl.jsonl")
    with pytest.raises(ExportError, match="1 problem\\(s\\) overlap the excluded set"):
        export(tmp_path / "out", records, ["parquet"], exclude=load_problems(path))
    assert not (tmp_path / "out").exists()


def test_assignment_missing_a_problem_is_refused(records: list[Record], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="have no split"):
        export(tmp_path, records, ["parquet"], assignment={records[0].problem_id: "train"})


def test_features_follow_the_record_schema_and_no_temp_files_remain(exported: tuple[Path, dict]) -> None:
    assert list(record_features()) == list(Record.model_fields)
    assert not [p for p in exported[0].rglob(".*")]


@pytest.mark.parametrize(("text", "value"), [("200", 200), ("0.2", 0.2), ("0", 0)])
def test_parse_test_size_for_the_cli(text: str, value: float) -> None:
    from cogbeh.formats import parse_test_size

    assert parse_test_size(text) == value and type(parse_test_size(text)) is type(value)


@pytest.mark.parametrize("text", ["ten", "-3", "1.5"])
def test_parse_test_size_refuses_nonsense(text: str) -> None:
    from cogbeh.formats import parse_test_size

    with pytest.raises(ExportError):
        parse_test_size(text)
