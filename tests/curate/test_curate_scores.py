"""Presence confusion tables: what the rules, fastText and benchmark reports rely on."""

from __future__ import annotations

import pytest

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import DocumentLabels, LabelError
from cogbeh.curate.scores import FIELDS, Confusion, confusion, format_confusion


def labels(problem: bool | None = True, solution: bool | None = True, **counts: int) -> DocumentLabels:
    return DocumentLabels({b: counts.get(b, 0) for b in BEHAVIORS}, problem, solution)


def test_presence_cells_per_field() -> None:
    truth = [labels(verification=2), labels(verification=1), labels(), labels(problem=False, solution=False)]
    guess = [labels(verification=1), labels(), labels(verification=3), labels(problem=True, solution=False)]
    table = confusion(truth, guess)
    assert list(table) == list(FIELDS)
    assert table["verification"] == Confusion(tp=1, fp=1, fn=1, tn=1)
    assert table["backtracking"] == Confusion(tn=4)
    assert table["contains_problem"] == Confusion(tp=3, fp=1)
    assert table["contains_solution"] == Confusion(tp=3, tn=1)


def test_label_errors_are_counted_apart_never_as_zero() -> None:
    truth = [labels(backtracking=1), labels()]
    table = confusion(truth, [LabelError("unparseable <count>"), labels()])
    for field in FIELDS:
        assert table[field].errors == 1
    assert table["backtracking"] == Confusion(tn=1, errors=1)  # not a false negative


def test_unknown_flags_are_skipped_in_truth_and_errors_in_predictions() -> None:
    table = confusion([labels(problem=None), labels()], [labels(), labels(problem=None)])
    assert table["contains_problem"] == Confusion(errors=1)  # the first row's truth does not say


def test_precision_recall_f1() -> None:
    c = Confusion(tp=8, fp=2, fn=4, tn=10)
    assert c.precision == pytest.approx(0.8) and c.recall == pytest.approx(8 / 12)
    assert c.f1 == pytest.approx(2 * 0.8 * (8 / 12) / (0.8 + 8 / 12))
    assert Confusion().precision == 1.0 and Confusion().recall == 1.0  # nothing claimed, nothing missed
    assert Confusion(fp=1, fn=1).f1 == 0.0
    assert c.total == 24


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="1 reference labels but 0 predictions"):
        confusion([labels()], [])


def test_markdown_table() -> None:
    text = format_confusion(confusion([labels(verification=1)], [labels(verification=1)]), "dev")
    lines = text.splitlines()
    assert lines[0] == "**dev**" and lines[2].startswith("| field | tp | fp | fn | tn | errors |")
    assert "| verification | 1 | 0 | 0 | 0 | 0 | 1.00 | 1.00 | 1.00 |" in lines
    assert len([line for line in lines if line.startswith("| ") and "field" not in line]) == len(FIELDS)
