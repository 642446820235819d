"""`curate distill` and `--judge fasttext:PATH`: trained on a synthetic labelled set generated here."""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cogbeh.behaviors import BEHAVIORS  # noqa: E402
from cogbeh.cli.main import cli  # noqa: E402
from cogbeh.curate.distill import (  # noqa: E402
    MANIFEST,
    DistillError,
    FastTextLabeler,
    distill,
    fasttext_text,
    read_labelled,
)
from cogbeh.curate.labels import LABEL_FIELDS, DocumentLabels, LabelError, make_labeler  # noqa: E402

# Cue sentences per behavior; a document shows a behavior when one of its sentences is drawn from here.
CUES: dict[str, tuple[str, ...]] = {
    "backtracking": ("Wait, that approach does not work, so let me go back and try a different substitution.",
                     "That was a dead end; I abandon this path and start over from the second equation.",
                     "Hmm, this is wrong, let us backtrack and use the other factorisation instead."),
    "backward_chaining": ("Working backwards from the goal, we need x = {a} so the previous step must give {b}.",
                          "To reach the result we reason from the conclusion back toward the hypotheses.",
                          "Starting from what we want to prove, it suffices to show the target follows from {a}."),
    "subgoal_setting": ("First, we find the roots; then, we use them to compute the area.",
                        "Let us break the problem into two steps: compute the sum, then the product.",
                        "Our first goal is to find the common denominator; the second goal is to simplify."),
    "verification": ("Let us check: substituting x = {a} back gives {b}, which matches the equation.",
                     "To verify, we plug the answer into the original expression and confirm it holds.",
                     "Checking the result: {a} times {b} is indeed correct, so the answer is confirmed."),
}
PLAIN = ("The function f is continuous on the interval from {a} to {b}.",
         "The sum of the first {a} odd numbers equals {b}.",
         "A triangle with sides {a}, {b} and {c} has a well defined perimeter.",
         "The derivative of x squared is two x, a standard identity.",
         "In modular arithmetic, {a} is congruent to {b} modulo {c}.",
         "The matrix has determinant {a} and trace {b}.",
         "Prime numbers below {a} are listed in the table.",
         "The integral of a polynomial is again a polynomial of higher degree.")
PROBLEM = "Problem: find all integers x such that x plus {a} equals {b}."
SOLUTION = "Solution: therefore the answer is {c}."


def _sentence(template: str, rng: random.Random) -> str:
    return template.format(a=rng.randint(2, 99), b=rng.randint(2, 99), c=rng.randint(2, 99))


def synthetic_rows(n: int, seed: int = 7, *, judge: str = "anthropic:fake") -> list[dict[str, Any]]:
    """`n` labelled rows: plain math prose with each behavior's cue present in ~35% of documents."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sentences = [_sentence(rng.choice(PLAIN), rng) for _ in range(rng.randint(3, 7))]
        counts = {b: (rng.randint(1, 2) if rng.random() < 0.35 else 0) for b in BEHAVIORS}
        for behavior, count in counts.items():
            sentences += [_sentence(rng.choice(CUES[behavior]), rng) for _ in range(count)]
        problem, solution = rng.random() < 0.6, rng.random() < 0.5
        rng.shuffle(sentences)
        text = "\n".join(([_sentence(PROBLEM, rng)] if problem else []) + sentences
                         + ([_sentence(SOLUTION, rng)] if solution else []))
        rows.append({"id": f"doc-{i}", "text": text, **{f"{b}_count": c for b, c in counts.items()},
                     "contains_problem": problem, "contains_solution": solution, "label_error": None,
                     "judge": judge})
    return rows


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


SMALL = {"epoch": 10, "dim": 16, "bucket": 20_000}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("distill") / "models"
    return out, distill(synthetic_rows(600), out, seed=3, **SMALL)


def test_distill_reports_precision_recall_above_chance(trained: tuple[Path, Any]) -> None:
    out, report = trained
    names = [m.name for m in report.models]
    assert names == [*BEHAVIORS, "contains_problem", "contains_solution"]
    for m in report.models:
        chance = m.heldout_positive / m.heldout  # precision of labelling at random with the base rate
        assert m.precision is not None and m.precision > max(chance, 0.5) + 0.2, m
        assert m.recall is not None and m.recall > 0.7, m
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["judges"] == ["anthropic:fake"]
    assert manifest["train"] + manifest["heldout"] == 600
    assert manifest["params"]["seed"] == 3 and "fasttext" in manifest["fasttext"]
    assert set(manifest["models"]) == set(names) and all((out / f"{n}.bin").is_file() for n in names)
    assert "| backtracking |" in report.markdown()


def test_fasttext_judge_labels_texts_through_make_labeler(trained: tuple[Path, Any]) -> None:
    out, _ = trained
    labeler = make_labeler(f"fasttext:{out}")
    assert labeler.name == f"fasttext:{out}"
    plain = "The matrix has determinant 4 and trace 5.\nThe sum of the first 3 odd numbers equals 9."
    rich = ("Problem: find all integers x such that x plus 3 equals 10. "
            "Wait, that approach does not work, so let me go back and try a different substitution. "
            "To verify, we plug the answer into the original expression and confirm it holds. "
            "Solution: therefore the answer is 7.")
    first, second = labeler.label([plain, rich])
    assert isinstance(first, DocumentLabels) and isinstance(second, DocumentLabels)
    assert first.counts == dict.fromkeys(BEHAVIORS, 0) and not first.contains_problem
    assert second.counts["backtracking"] == 1 and second.counts["verification"] == 1  # presence, not counts
    assert second.contains_problem and second.contains_solution
    assert labeler.label([]) == []


def test_labeler_pickles_before_and_after_use(trained: tuple[Path, Any]) -> None:
    out, _ = trained
    labeler = FastTextLabeler(out)
    copy = pickle.loads(pickle.dumps(labeler))
    texts = [row["text"] for row in synthetic_rows(20, seed=99)]
    expected = labeler.label(texts)
    assert pickle.loads(pickle.dumps(labeler)).label(texts) == expected == copy.label(texts)


def test_labeler_without_problem_models_says_none(tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k not in ("contains_problem", "contains_solution")}
            for row in synthetic_rows(200)]
    report = distill(rows, tmp_path / "m", **SMALL)
    assert set(report.skipped) == {"contains_problem", "contains_solution"}
    labels = FastTextLabeler(tmp_path / "m").label(["Let us check: 3 times 4 is 12."])[0]
    assert isinstance(labels, DocumentLabels) and labels.contains_problem is None


@pytest.mark.slow
def test_same_seed_same_metrics_and_models(tmp_path: Path) -> None:
    rows = synthetic_rows(300, seed=11)
    first = distill(rows, tmp_path / "a", seed=5, **SMALL)
    second = distill(list(reversed(rows)), tmp_path / "b", seed=5, **SMALL)  # file order does not matter
    assert first.models == second.models
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()
    for name in BEHAVIORS:
        assert (tmp_path / "a" / f"{name}.bin").read_bytes() == (tmp_path / "b" / f"{name}.bin").read_bytes()
    other = distill(rows, tmp_path / "c", seed=6, **SMALL)
    assert (other.train, other.models[0].tp) != (first.train, first.models[0].tp)


def test_label_errors_are_skipped_and_counted(tmp_path: Path) -> None:
    rows = synthetic_rows(120)
    for row in rows[:20]:
        row.update({f"{b}_count": None for b in BEHAVIORS}, label_error="unparseable count")
    report = distill(rows, tmp_path / "m", **SMALL)
    assert (report.rows, report.label_errors, report.train + report.heldout) == (120, 20, 100)


def test_bad_rows_name_the_problem(tmp_path: Path) -> None:
    rows = synthetic_rows(100)
    with pytest.raises(DistillError, match="at least 500"):
        distill(rows, tmp_path / "m", min_docs=500)
    flat = [{**row, "verification_count": 0} for row in rows]
    with pytest.raises(DistillError, match="verification: all 100 documents lack it"):
        distill(flat, tmp_path / "m")
    with pytest.raises(DistillError, match="between 0 and 1"):
        distill(rows, tmp_path / "m", holdout=1.0)


def test_training_failure_is_a_distill_error(tmp_path: Path) -> None:
    with pytest.raises(DistillError, match="backtracking: fastText training failed .*lower --lr"):
        distill(synthetic_rows(100), tmp_path / "m", lr=float("nan"), **SMALL)
    assert not list((tmp_path / "m").glob("*.bin"))


def test_fasttext_text_is_one_lower_case_line() -> None:
    assert fasttext_text("Wait,\nTHAT\tfails (x=3).") == "wait that fails x 3"


def test_labeler_rejects_a_folder_without_models(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="curate distill"):
        make_labeler(f"fasttext:{tmp_path}")


def test_read_labelled_takes_classify_folder_and_files(tmp_path: Path) -> None:
    rows = synthetic_rows(10)
    _write_jsonl(tmp_path / "run" / "labelled" / "00000.jsonl", rows[:4])
    _write_jsonl(tmp_path / "run" / "labelled" / "00001.jsonl", rows[4:])
    single = _write_jsonl(tmp_path / "one.jsonl", rows[:2])
    assert [r["id"] for r in read_labelled([tmp_path / "run", single])] == [r["id"] for r in rows + rows[:2]]
    nested = {"id": "x", "text": "t", "metadata": {f: None for f in LABEL_FIELDS}}
    _write_jsonl(tmp_path / "nested.jsonl", [nested])
    assert read_labelled([tmp_path / "nested.jsonl"])[0]["judge"] is None


def test_cli_prints_and_writes_the_table(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "run" / "labelled" / "00000.jsonl", synthetic_rows(300))
    result = CliRunner().invoke(cli, ["curate", "distill", str(tmp_path / "run"), "--out", str(tmp_path / "m"),
                                       "--epoch", "10", "--dim", "16", "--bucket", "20000"])
    assert result.exit_code == 0, result.output
    assert "| verification |" in result.stdout
    assert (tmp_path / "m" / "report.md").read_text() in result.stdout
    labels = make_labeler(f"fasttext:{tmp_path / 'm'}").label(["To verify, we plug the answer in."])
    assert isinstance(labels[0], DocumentLabels | LabelError)


@pytest.mark.parametrize(("setup", "message"), [
    ("nothing", "no labelled files given"),
    ("missing", "no such file or folder"),
    ("empty_dir", "no labelled .jsonl files"),
    ("few", "needs at least 50"),
    ("one_class", "backtracking: all 60 documents lack it"),
    ("bad_json", "not a JSON line"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, setup: str, message: str) -> None:
    rows = synthetic_rows(60)
    args = {"nothing": [], "missing": [str(tmp_path / "nope.jsonl")], "empty_dir": [str(tmp_path)]}.get(setup)
    if args is None:
        chosen = {"few": rows[:10], "one_class": [{**r, "backtracking_count": 0} for r in rows]}.get(setup, rows)
        path = _write_jsonl(tmp_path / "in.jsonl", chosen)
        if setup == "bad_json":
            path.write_text(path.read_text() + "{oops\n")
        args = [str(path)]
    result = CliRunner().invoke(cli, ["curate", "distill", *args, "--out", str(tmp_path / "m")])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
