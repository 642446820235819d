"""Agreement of a labeler with reference labels: per-behavior presence confusion, precision, recall, F1.

Used to score the rule labeler against the fixture corpus, the distilled fastText model against held-out
judge labels, and in the benchmarks. A behavior is *present* when its count is > 0. A prediction that is a
LabelError is counted in `errors`, never as a 0 (that would silently make a failure a "minimal" document).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import DocumentLabels, LabelError

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
