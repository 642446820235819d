"""Agreement of a labeler with reference labels: per-behavior presence confusion, precision, recall, F1.

Used to score the rule labeler against the fixture corpus, the distilled fastText model against held-out
judge labels, and in the benchmarks. A behavior is *present* when its count is > 0. A prediction that is a
LabelError is counted in `errors`, never as a 0 (that would silently make a failure a "minimal" document).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS, DocumentLabels, LabelError

#: The rows of a confusion report: the four behaviors, then the two flags.
FIELDS: tuple[str, ...] = (*BEHAVIORS, "contains_problem", "contains_solution")


@dataclass(frozen=True)
class Confusion:
    """Presence confusion counts of one field; `errors`: predictions that were LabelErrors or said nothing."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    errors: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted present (no false claim was made)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing is present in the truth."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0.0 when both are 0)."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def total(self) -> int:
        """Documents scored, errors included."""
        return self.tp + self.fp + self.fn + self.tn + self.errors


def _present(labels: DocumentLabels, field: str) -> bool | None:
    if field in BEHAVIORS:
        return labels.counts[field] > 0
    return getattr(labels, field)


def confusion(truth: Sequence[DocumentLabels],
              predicted: Sequence[DocumentLabels | LabelError]) -> dict[str, Confusion]:
    """Per field of `FIELDS`: presence confusion of `predicted` against `truth` (same order, same length).

    A truth document whose problem/solution flag is None (that labeler does not say) is left out of that row;
    a prediction that is a LabelError, or whose flag is None where the truth has one, counts as an error.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} reference labels but {len(predicted)} predictions")
    cells: dict[str, list[int]] = {field: [0, 0, 0, 0, 0] for field in FIELDS}
    for gold, guess in zip(truth, predicted, strict=True):
        for field in FIELDS:
            expected = _present(gold, field)
            if expected is None:
                continue
            got = None if isinstance(guess, LabelError) else _present(guess, field)
            cell = cells[field]
            if got is None:
                cell[4] += 1
            elif got and expected:
                cell[0] += 1
            elif got:
                cell[1] += 1
            elif expected:
                cell[2] += 1
            else:
                cell[3] += 1
    return {field: Confusion(*cell) for field, cell in cells.items()}


def format_confusion(table: dict[str, Confusion], title: str | None = None) -> str:
    """A Markdown table: one row per field with tp/fp/fn/tn/errors, precision, recall and F1."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| field | tp | fp | fn | tn | errors | precision | recall | f1 |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for field, c in table.items():
        lines.append(f"| {field} | {c.tp} | {c.fp} | {c.fn} | {c.tn} | {c.errors} | {c.precision:.2f} | "
                     f"{c.recall:.2f} | {c.f1:.2f} |")
    return "\n".join(lines) + "\n"


def labels_of_row(row: dict[str, Any]) -> DocumentLabels | LabelError:
    """The labels a row carries: a labelled row (`<behavior>_count` columns, `label_error`) or a reference row
    such as the fixture corpus (counts under the bare behavior names). ValueError when it has neither."""
    if row.get("label_error"):
        return LabelError(str(row["label_error"]))
    counts: dict[str, int] = {}
    for behavior in BEHAVIORS:
        value = row.get(COUNT_FIELDS[behavior], row.get(behavior))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"row {row.get('id')!r} has no count for {behavior} (expected a non-negative integer "
                             f"in {COUNT_FIELDS[behavior]!r} or {behavior!r})")
        counts[behavior] = value
    flags = [row.get(name) if isinstance(row.get(name), bool) else None
             for name in ("contains_problem", "contains_solution")]
    return DocumentLabels(counts, *flags)


def agreement(reference: Sequence[dict[str, Any]], candidate: Sequence[dict[str, Any]]) -> Agreement:
    """Confusion of `candidate`'s labels against `reference`'s, over the ids both hold (rows matched by `id`).

    Reference rows that are label errors are left out (nothing to score against) and counted.
    """
    by_id = {row.get("id"): row for row in candidate}
    truth: list[DocumentLabels] = []
    predicted: list[DocumentLabels | LabelError] = []
    unlabelled = missing = 0
    for row in reference:
        gold = labels_of_row(row)
        if isinstance(gold, LabelError):
            unlabelled += 1
            continue
        other = by_id.get(row.get("id"))
        if other is None:
            missing += 1
            continue
        truth.append(gold)
        predicted.append(labels_of_row(other))
    return Agreement(confusion(truth, predicted), compared=len(truth), missing=missing,
                     reference_errors=unlabelled)


@dataclass(frozen=True)
class Agreement:
    """`agreement`'s result: the per-field confusion and how many documents it covers."""

    table: dict[str, Confusion]
    compared: int
    missing: int  # reference ids the candidate does not have
    reference_errors: int  # reference rows that are label errors
