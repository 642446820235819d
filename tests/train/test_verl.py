"""veRL parquet export: TinyZero's row layout, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.countdown import Problem, sample_problems
from cogbeh.train.data import rl_prompt
from cogbeh.train.verl import export_verl, read_verl


def test_export_round_trips_and_has_the_verl_columns(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    problems = sample_problems(12, preset="tinyzero", seed=4)
    path = export_verl(problems, tmp_path / "out" / "train.parquet", split="test")
    assert read_verl(path) == problems
    rows = pq.read_table(path).to_pylist()
    assert set(rows[0]) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    first = rows[0]
    assert first["data_source"] == "countdown" and first["ability"] == "math"
    assert first["prompt"][0]["role"] == "user" and first["prompt"][0]["content"].endswith("<think>")
    assert first["reward_model"] == {
        "style": "rule",
        "ground_truth": {"target": problems[0].target, "numbers": list(problems[0].nums)},
    }
    assert [r["extra_info"] for r in rows[:2]] == [
        {"split": "test", "index": 0},
        {"split": "test", "index": 1},
    ]


# (completion, nums, target): hostile answers must score like `countdown_reward`, never be evaluated.
VERL_CASES = [
    ("<think>5+3</think><answer>(30 - 25 + 3) * 4</answer>", [25, 30, 3, 4], 32),
    ("<answer>(30 - 25 + 3) * 4 = 32</answer>", [25, 30, 3, 4], 32),
    ("<answer>30 - 25 + 3 + 4</answer>", [25, 30, 3, 4], 32),
    ("<answer>9**9**9**9</answer>", [9, 9, 9, 9], 32),
    ("<answer>1.5*6</answer>", [1, 5, 6], 9),
    ("<answer>2//1</answer>", [2, 1], 2),
    ("<answer>__import__('os').system('true')</answer>", [1, 2], 3),
    ("<answer>" + "(" * 80 + "1" + ")" * 80 + "</answer>", [1], 1),
    ("<answer>1e9</answer>", [1, 9], 9),
    ("<answer>٣+1</answer>", [3, 1], 4),
    ("<answer>1+2</answer><answer>1*2</answer>", [1, 2], 3),
    ("<answer>1+1+2</answer>", [1, 2], 4),
    ("<answer>1+2", [1, 2], 3),
    ("1+2</answer>", [1, 2], 3),
    ("no tags at all: 1+2", [1, 2], 3),
    ("", [1, 2], 3),
    ("<answer></answer>", [1, 2], 3),
    ("<answer>" + "1+" * 5000 + "2</answer>", [1, 2], 3),
]


def test_verl_compute_score_has_the_papers_values() -> None:
    from cogbeh.countdown import verl_compute_score

    truth = {"target": 32, "numbers": [25, 30, 3, 4]}
    assert verl_compute_score("countdown", "<answer>(30 - 25 + 3) * 4</answer>", truth) == 1.0
    assert verl_compute_score("countdown", "<answer>30 + 25</answer>", truth, {"split": "train"}) == 0.1
    assert verl_compute_score("countdown", "(30 - 25 + 3) * 4", truth) == 0.0


@pytest.mark.parametrize("case", range(len(VERL_CASES)))
def test_verl_compute_score_agrees_with_countdown_reward(case: int) -> None:
    from cogbeh.countdown import countdown_reward, verl_compute_score

    text, nums, target = VERL_CASES[case]
    expected = countdown_reward([text], [nums], [target])[0]
    truth = {"target": target, "numbers": nums}
    assert verl_compute_score("countdown", text, truth) == expected
    # veRL passes keywords; parquet hands back numpy values; old forks decode prompt + response together.
    assert (
        verl_compute_score(data_source="countdown", solution_str=text, ground_truth=truth, extra_info=None)
        == expected
    )
    import numpy as np

    numpy_truth = {"target": np.int64(target), "numbers": np.array(nums, dtype=np.int64)}
    assert verl_compute_score("countdown", text, numpy_truth) == expected
    prompt = rl_prompt(Problem(tuple(nums), target), style="tinyzero")
    assert isinstance(prompt, str) and "<answer>" in prompt  # the prompt's own example must not count
    assert verl_compute_score("countdown", prompt + text, truth) == expected


def test_verl_compute_score_reads_the_exported_rows(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from cogbeh.countdown import solve, verl_compute_score

    problems = sample_problems(5, preset="tinyzero", seed=7)
    rows = pq.read_table(export_verl(problems, tmp_path / "train.parquet")).to_pylist()
    for problem, row in zip(problems, rows, strict=True):
        good = f"<think>ok</think><answer>{solve(problem.nums, problem.target, limit=1)[0]}</answer>"
        truth = row["reward_model"]["ground_truth"]
        assert verl_compute_score(row["data_source"], good, truth, row["extra_info"]) == 1.0
        assert verl_compute_score(row["data_source"], good, json.dumps(truth)) == 1.0


@pytest.mark.parametrize(
    "truth", [None, {"target": 3}, {"target": 3.5, "numbers": [1, 2]}, "not json", [1, 2]]
)
def test_verl_compute_score_refuses_a_broken_ground_truth(truth: object) -> None:
    from cogbeh.countdown import verl_compute_score

    with pytest.raises(ValueError):
        verl_compute_score("countdown", "<answer>1+2</answer>", truth)


def test_the_verl_reward_module_and_launch_script_match_the_paper() -> None:
    import importlib.util

    from cogbeh.paths import generators_dir

    folder = generators_dir() / "train" / "verl"
    spec = importlib.util.spec_from_file_location("custom_module", folder / "countdown_reward.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # what veRL's custom_reward_function.path does
    truth = {"target": 3, "numbers": [1, 2]}
    assert module.compute_score("countdown", "<answer>1+2</answer>", truth) == 1.0
    script = (folder / "ppo_countdown.sh").read_text(encoding="utf-8")
    for setting in (
        "data.train_batch_size=256",
        "data.max_response_length=1024",
        "actor_rollout_ref.actor.optim.lr=1e-6",
        "actor_rollout_ref.actor.ppo_mini_batch_size=128",
        "actor_rollout_ref.rollout.n=4",
        "critic.optim.lr=1e-5",
        "algorithm.kl_ctrl.kl_coef=0.001",
        "custom_reward_function.name=compute_score",
    ):
        assert setting in script
