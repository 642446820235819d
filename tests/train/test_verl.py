"""veRL parquet export: TinyZero's row layout, round trip."""

from __future__ import annotations

from pathlib import Path

from cogbeh.countdown import sample_problems
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
