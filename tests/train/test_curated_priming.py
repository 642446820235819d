"""`curate rewrite` folders prime a model with `train sft --data` exactly as Countdown runs do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.cli.main import main
from cogbeh.prompting import question_row
from cogbeh.train.data import load_priming

ROOT = Path(__file__).resolve().parents[2]


def _rewrite_folder(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        question, thoughts, answer = f"What is {i} + {i}?", f"I add {i} and {i}. Check: {2 * i} - {i} = {i}.", str(2 * i)
        rows.append({"id": f"rich-{i}", "source_id": f"doc-{i}", "style": "rich", "question": question,
                     "thoughts": thoughts, "answer": answer, **question_row(question, thoughts, answer)})
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_rewrite_rows_rebuild_the_query_in_the_runs_prompt_format(tmp_path: Path) -> None:
    _rewrite_folder(tmp_path / "rw", 3)
    raw = load_priming(tmp_path / "rw")
    assert raw.problems == []  # no Countdown problems to keep RL apart from
    row = raw.rows[0]
    assert row["prompt"].endswith("Assistant: Let me solve this step by step.\n<think>")
    assert "User: What is 0 + 0?" in row["prompt"]
    assert row["completion"] == "I add 0 and 0. Check: 0 - 0 = 0.</think>\n<answer>0</answer>"
    chat = load_priming(tmp_path / "rw", style="chat").rows[0]
    assert chat["prompt"][0]["role"] == "user" and chat["prompt"][0]["content"].startswith("What is 0 + 0?")
    assert chat["completion"][0]["content"].startswith("<think>I add 0 and 0.")


@pytest.mark.slow
def test_train_sft_primes_on_a_rewrite_folder(tmp_path: Path, tiny_model: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _rewrite_folder(tmp_path / "rw", 16)
    out = tmp_path / "primed"
    with pytest.raises(SystemExit) as done:
        main(["train", "sft", "--lora", "--data", str(tmp_path / "rw"), "--model", str(tiny_model),
              "--out", str(out), "--config", str(ROOT / "generators/train/sft_cpu.yaml")])
    assert done.value.code == 0, capsys.readouterr().err
    assert (out / "adapter").is_dir() and (out / "config.json").is_file()
    assert json.loads((out / "prompt.json").read_text())["style"] == "tinyzero"
