"""`eval` on the accelerator: device and engine choice, the paper's sampling defaults, format score 0."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cogbeh.countdown import Problem, problems_to_dataset
from cogbeh.train import evaluate as ev


@pytest.fixture
def no_vllm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "vllm_installed", lambda: False)


def test_device_auto_is_cpu_here_and_the_model_lands_there(tiny_model: Path) -> None:
    import torch

    assert not torch.cuda.is_available()  # this machine: no accelerator
    assert ev.resolve_device("auto") == "cpu"
    model, _ = ev.load_model(str(tiny_model), ev.resolve_device("auto"))
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert {p.dtype for p in model.parameters()} == {torch.float32}  # bf16 only on a GPU that supports it
    with pytest.raises(ev.EvalError, match="no CUDA device"):
        ev.resolve_device("cuda:0")
    with pytest.raises(ev.EvalError, match="expected auto, cpu"):
        ev.resolve_device("tpu")


def test_engine_choice_without_vllm(no_vllm: None) -> None:
    engine, notice = ev.resolve_engine("auto", "cpu")
    assert engine == "transformers" and notice and "vLLM is not installed" in notice
    assert ev.resolve_engine("transformers", "cpu") == ("transformers", None)
    with pytest.raises(ev.EvalError, match="vLLM is not installed"):
        ev.resolve_engine("vllm", "cpu")


def test_paper_sampling_defaults() -> None:
    assert inspect.signature(ev.evaluate).parameters["temperature"].default == 1.0
    assert inspect.signature(ev.generate).parameters["temperature"].default == 1.0


def test_sampling_is_on_at_t1_and_greedy_at_t0(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, tokenizer = ev.load_model(str(tiny_model))
    seen: list[dict] = []
    original = model.generate

    def spy(**kwargs):  # the real generate, with its sampling arguments recorded
        seen.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(model, "generate", spy)
    ev.generate(model, tokenizer, ["User: 1 2\nAssistant:"], max_new_tokens=3)
    ev.generate(model, tokenizer, ["User: 1 2\nAssistant:"], max_new_tokens=3, temperature=0)
    assert seen[0]["do_sample"] is True and seen[0]["temperature"] == 1.0
    assert seen[1]["do_sample"] is False


def test_accuracy_gives_a_well_formed_wrong_answer_zero() -> None:
    problems = [Problem((1, 2, 3), 6)] * 4
    completions = [
        "</think>\n<answer>1 + 2 + 3</answer>",  # correct: 1.0
        "</think>\n<answer>1 + 2 * 3</answer>",  # well formed, wrong: reward 0.1, accuracy 0
        "</think>\n<answer>1 + 2 * 3</answer>",
        "no answer",
    ]
    row, _ = ev.summarise(0, "m", problems, completions, ev.RuleClassifier(), style="tinyzero")
    assert row["accuracy"] == 0.25
    assert row["mean_reward"] == pytest.approx(1.2 / 4)  # the training reward keeps its format score


def test_judge_counts_sit_beside_the_rule_counts() -> None:
    class Judge:
        name = "fake:judge"

        def count(self, texts):
            return [{b: 7 for b in ev.BEHAVIORS} for _ in texts]

    text = "Let's try 1 + 2 = 3. That is not 6, let's go back.</think>\n<answer>1 + 2 + 3</answer>"
    row, samples = ev.summarise(
        0, "m", [Problem((1, 2, 3), 6)], [text], Judge(), style="tinyzero", rules=ev.RuleClassifier()
    )
    assert row["verification"] == 7 and row["classifier"] == "fake:judge"
    assert all(f"rules_{b}" in row and f"rules_{b}" in samples[0] for b in ev.BEHAVIORS)


def test_eval_end_to_end_on_cpu_with_the_tiny_model(
    tiny_model: Path, tmp_path: Path, no_vllm: None
) -> None:
    notices: list[str] = []
    problems = [Problem((3, 5, 7), 22), Problem((2, 4, 6), 12)]
    result = ev.evaluate(
        str(tiny_model), problems, tmp_path / "out", max_new_tokens=6, batch_size=2, notify=notices.append
    )
    (row,) = result.rows
    assert row["engine"] == "transformers" and row["device"] == "cpu" and row["temperature"] == 1.0
    assert row["n"] == 2 and 0 <= row["accuracy"] <= 1
    assert notices == ["vLLM is not installed: generating with transformers"]


def test_tinyzero_test_split_takes_rows_from_its_start(tmp_path: Path) -> None:
    rows = [Problem((i, i + 1, i + 2), 10 + i) for i in range(1, 13)]
    problems_to_dataset(rows).save_to_disk(str(tmp_path / "ds"))
    got = ev.tinyzero_test_problems(source=str(tmp_path / "ds"), start=8, rows=3)
    assert [p.target for p in got] == [19, 20, 21]
    assert len(ev.tinyzero_test_problems(2, source=str(tmp_path / "ds"), start=8, rows=3)) == 2
    from cogbeh.train.data import DataError

    with pytest.raises(DataError, match="needs rows 10..13"):
        ev.tinyzero_test_problems(source=str(tmp_path / "ds"), start=10, rows=4)
    assert (ev.TINYZERO_TEST_START, ev.TINYZERO_TEST_ROWS) == (327_680, 1_024)


def test_cli_engine_vllm_without_vllm_is_a_one_line_error(tiny_model: Path, tmp_path: Path) -> None:
    from cogbeh.cli.main import cli

    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps({"nums": [3, 5, 7], "target": 22}) + "\n")
    base = ["eval", "--model", str(tiny_model), "--problems", str(problems), "--out", str(tmp_path / "o")]
    if ev.vllm_installed():
        pytest.skip("vLLM is installed here")
    result = CliRunner().invoke(cli, [*base, "--engine", "vllm"])
    assert result.exit_code == 2
    assert "vLLM is not installed" in result.output and len(result.output.strip().splitlines()) == 1
    ok = CliRunner().invoke(cli, [*base, "--max-new-tokens", "4"])
    assert ok.exit_code == 0, ok.output
    assert "note: vLLM is not installed: generating with transformers" in ok.output
    assert json.loads((tmp_path / "o" / "eval.json").read_text())["rows"][0]["device"] == "cpu"
