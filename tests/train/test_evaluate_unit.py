"""Evaluation bookkeeping that needs no model: summaries, checkpoint discovery, judge selection, plot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from cogbeh.classify import BehaviorCounts, ClassifyError, RuleClassifier
from cogbeh.countdown import Problem
from cogbeh.train.evaluate import EvalError, classifier_for, find_checkpoints, plot, summarise


class FakeClassifier:
    """Counts 'Verify' occurrences; refuses texts containing 'unreadable'."""

    name = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        self.seen.extend(texts)
        return [
            ClassifyError("unreadable")
            if "unreadable" in t
            else {
                "backtracking": 0,
                "backward_chaining": 0,
                "subgoal_setting": 0,
                "verification": t.count("Verify"),
            }
            for t in texts
        ]


def test_summary_scores_answers_and_averages_only_classified_texts() -> None:
    problems = [Problem((1, 2, 3), 6)] * 3
    completions = [
        "Verify Verify</think>\n<answer>1 + 2 + 3</answer>",
        "no</think>\n<answer>1 * 2 * 4</answer>",
        "unreadable",
    ]
    fake = FakeClassifier()
    row, samples = summarise(5, "ckpt", problems, completions, fake, style="tinyzero")
    assert fake.seen[0].startswith("<think>Verify")  # the prompt's opened think block is restored
    assert row["accuracy"] == pytest.approx(1 / 3) and row["answer_rate"] == pytest.approx(2 / 3)
    assert row["mean_reward"] == pytest.approx(1.1 / 3)
    assert row["classified"] == 2 and row["verification"] == 1.0 and row["classifier"] == "fake"
    assert samples[2]["classify_error"] == "unreadable" and samples[2]["verification"] is None


def test_checkpoints_are_ordered_by_step_with_the_model_at_step_zero(tmp_path: Path) -> None:
    for step in (10, 2):
        (tmp_path / "rl" / f"checkpoint-{step}").mkdir(parents=True)
        (tmp_path / "rl" / f"checkpoint-{step}" / "config.json").write_text("{}")
    (tmp_path / "rl" / "checkpoint-11").mkdir()  # half written: no model files yet, skipped
    (tmp_path / "rl" / "config.json").write_text("{}")
    (tmp_path / "rl" / "cogbeh_train.json").write_text(json.dumps({"final_step": 12}))
    found = find_checkpoints("base", tmp_path / "rl")
    assert [step for step, _ in found] == [0, 2, 10, 12]
    assert found[-1][1] == str(tmp_path / "rl")
    with pytest.raises(EvalError, match="no checkpoint-N"):
        find_checkpoints("base", tmp_path)


def test_judge_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(classifier_for(None), RuleClassifier)
    with pytest.raises(EvalError, match="PROVIDER:MODEL"):
        classifier_for("gpt-4o-mini")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(EvalError, match="OPENAI_API_KEY"):
        classifier_for("openai:gpt-4o-mini")


def _rows(accuracy: list[float], verification: list[float], **extra: object) -> list[dict]:
    return [
        {"step": s, "accuracy": a, "backtracking": 1.0, "backward_chaining": 0.0, "subgoal_setting": 0.2,
         "verification": v, "mean_chars": 300.0 + s, **extra}
        for s, a, v in zip((0, 50, 100), accuracy, verification, strict=True)
    ]


def test_plot_is_a_titled_2x3_grid_with_fixed_scales(tmp_path: Path) -> None:
    import struct

    from cogbeh.train.evaluate import figure

    rows = _rows([0.0, 0.0, 0.0], [0.0, 1.5, 2.0])
    fig = figure(rows, title="Evaluation of tiny-llama")
    axes = fig.get_axes()
    titles = ["Accuracy", "Backtracking", "Backward chaining", "Subgoal setting", "Verification",
              "Response length"]
    assert [a.get_title() for a in axes] == titles
    assert fig.get_suptitle() == "Evaluation of tiny-llama"
    assert axes[0].get_ylim() == (0.0, 1.0)  # all-zero accuracy is not blown up to +-0.04
    assert axes[0].get_ylabel() == "fraction correct" and axes[3].get_xlabel() == "training step"
    assert all(a.get_ylim()[0] == 0.0 for a in axes)
    assert axes[2].get_ylim() == (0.0, 1.0)  # an all-zero count sits on the axis
    assert list(axes[3].get_xticks()) == [0, 50, 100]
    assert all(len(a.get_lines()) == 1 for a in axes)
    path = plot(rows, tmp_path / "p.png", title="Evaluation of tiny-llama")
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1560, 900)  # a readable grid, not a 2400x384 strip


def test_plot_draws_one_line_per_run(tmp_path: Path) -> None:
    from cogbeh.train.evaluate import figure

    by_name = figure({"all": _rows([0.1, 0.3, 0.5], [0, 1, 2]), "none": _rows([0.1, 0.1, 0.2], [0, 0, 0])})
    assert all([line.get_label() for line in a.get_lines()] == ["all", "none"] for a in by_name.get_axes())
    assert [t.get_text() for t in by_name.legends[0].get_texts()] == ["all", "none"]
    tagged = _rows([0.1, 0.3, 0.5], [0, 1, 2], run="a") + _rows([0.2, 0.2, 0.2], [0, 0, 0], run="b")
    assert [line.get_label() for line in figure(tagged).get_axes()[0].get_lines()] == ["a", "b"]
    single = figure(_rows([0.1, 0.3, 0.5], [0, 1, 2]))
    assert not single.legends  # one run: the title names it, no legend
