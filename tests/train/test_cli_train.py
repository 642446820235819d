"""`train`, `eval` and `export` commands: one-line errors for bad input, and the verl export end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.cli.main import cli
from cogbeh.countdown import sample_problems, save_problems


def _run(args: list[str]):
    from click.testing import CliRunner

    return CliRunner().invoke(cli, args)


def _error(result) -> str:
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def test_rl_refuses_problems_that_overlap_the_priming_set(tmp_path: Path) -> None:
    model = tmp_path / "primed"
    model.mkdir()
    shared = sample_problems(3, preset="paper", seed=0)
    save_problems(shared, model / "priming_problems.jsonl")  # what `train sft` leaves next to its model
    save_problems(shared[:1], tmp_path / "rl.jsonl")
    message = _error(
        _run(
            [
                "train",
                "rl",
                "--model",
                str(model),
                "--problems",
                str(tmp_path / "rl.jsonl"),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    )
    assert "1 RL problem(s) also occur in the priming data" in message and shared[0].id in message


def test_missing_inputs_are_one_line_errors(tmp_path: Path) -> None:
    message = _error(
        _run(
            [
                "train",
                "sft",
                "--data",
                str(tmp_path / "nope"),
                "--model",
                str(tmp_path),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    )
    assert "cannot load dataset" in message
    message = _error(
        _run(
            [
                "train",
                "sft",
                "--data",
                str(tmp_path),
                "--model",
                str(tmp_path / "no-model"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    )
    assert "no such model folder" in message
    message = _error(
        _run(
            [
                "export",
                "verl",
                "--problems",
                str(tmp_path / "missing.jsonl"),
                "--out",
                str(tmp_path / "x.parquet"),
            ]
        )
    )
    assert "missing.jsonl" in message


def test_bad_config_key_is_named(tmp_path: Path, make_run_folder) -> None:
    make_run_folder(tmp_path / "data", 2)
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_seq_length: 512\n")
    message = _error(
        _run(
            [
                "train",
                "sft",
                "--data",
                str(tmp_path / "data"),
                "--model",
                str(tmp_path),
                "--out",
                str(tmp_path / "o"),
                "--config",
                str(bad),
            ]
        )
    )
    assert "unknown key 'max_seq_length'" in message


def test_judge_needs_provider_and_model(tmp_path: Path) -> None:
    message = _error(
        _run(
            [
                "eval",
                "--model",
                str(tmp_path),
                "--problems",
                "paper",
                "-n",
                "2",
                "--out",
                str(tmp_path / "e"),
                "--judge",
                "gpt-4o-mini",
            ]
        )
    )
    assert "PROVIDER:MODEL" in message


@pytest.mark.parametrize("source", ["tinyzero", "file"])
def test_export_verl_from_a_preset_or_a_file(tmp_path: Path, source: str) -> None:
    from cogbeh.train.verl import read_verl

    problems = sample_problems(5, preset="tinyzero", seed=1)
    if source == "file":
        source = str(save_problems(problems, tmp_path / "p.jsonl"))
    result = _run(["export", "verl", "--problems", source, "-n", "5", "--out", str(tmp_path / "v.parquet")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {
        "out": str(tmp_path / "v.parquet"),
        "rows": 5,
    }
    assert read_verl(tmp_path / "v.parquet") == problems


def test_eval_problems_from_a_file_skip_those_seen_in_training(tmp_path: Path) -> None:
    from cogbeh.cli.train import _problems

    problems = sample_problems(6, preset="tinyzero", seed=3)
    path = save_problems(problems, tmp_path / "p.jsonl")
    assert _problems(str(path), n=3, seed=0, exclude=problems[:2], drop=True) == problems[2:5]
    assert _problems(str(path), n=3, seed=0, exclude=problems[:2]) == problems[:3]
