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


def test_plot_has_accuracy_and_four_behavior_panels(tmp_path: Path) -> None:
    rows = [
        {
            "step": s,
            "accuracy": a,
            "backtracking": 1.0,
            "backward_chaining": 0.5,
            "subgoal_setting": 0.2,
            "verification": v,
        }
        for s, a, v in [(0, 0.1, 0.0), (50, 0.3, 1.5), (100, 0.5, 2.0)]
    ]
    path = plot(rows, tmp_path / "p.png", label="all")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
