"""Aggregate behavior counts over records: per-behavior totals and a condition × behavior table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cogbeh.behaviors import BEHAVIORS, PAPER_CONDITIONS, config_name
from cogbeh.classify.base import BehaviorClassifier, BehaviorCounts, ClassifyError, RuleClassifier

#: The condition of a record that has none (e.g. LLM outputs given only as `text`).
UNLABELLED = "(no condition)"
#: Texts sent to a classifier per call (an LLM judge batches its requests per call).
BATCH = 512


def completion_text(record: Mapping[str, Any]) -> str | None:
    """A record's `completion` (a string or TRL chat messages), else its `text`; None if neither."""
    value = record.get("completion")
    if value is None:
        value = record.get("text")
    if isinstance(value, list):  # conversational rows: [{"role": "assistant", "content": "..."}]
        parts = [m.get("content") for m in value if isinstance(m, Mapping)]
        return "".join(p for p in parts if isinstance(p, str)) if parts else None
    return value if isinstance(value, str) else None


def condition_of(record: Mapping[str, Any]) -> str:
    """The record's condition, or UNLABELLED."""
    condition = record.get("condition")
    return condition if isinstance(condition, str) and condition else UNLABELLED


@dataclass
class Tally:
    """Counts over one group of records."""

    records: int = 0  # classified records
    errors: int = 0  # records the classifier could not classify
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BEHAVIORS, 0))
    present: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BEHAVIORS, 0))  # records with >= 1

    def add(self, result: BehaviorCounts | ClassifyError) -> None:
        """Count one classifier result."""
        if isinstance(result, ClassifyError):
            self.errors += 1
            return
        self.records += 1
        for behavior in BEHAVIORS:
            self.totals[behavior] += result[behavior]
            self.present[behavior] += result[behavior] > 0

    def mean(self, behavior: str) -> float:
        """Mean count per classified record (0 when there are none)."""
        return self.totals[behavior] / self.records if self.records else 0.0

    def share(self, behavior: str) -> float:
        """Fraction of classified records showing the behavior at least once."""
        return self.present[behavior] / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "records": self.records,
            "errors": self.errors,
            "behaviors": {
                b: {"total": self.totals[b], "mean": round(self.mean(b), 4), "share": round(self.share(b), 4)}
                for b in BEHAVIORS
            },
        }


@dataclass
class BehaviorTable:
    """All records together, and one tally per condition."""

    overall: Tally = field(default_factory=Tally)
    by_condition: dict[str, Tally] = field(default_factory=dict)

    def add(self, condition: str, result: BehaviorCounts | ClassifyError) -> None:
        """Count one record's result under `condition`."""
        self.overall.add(result)
        self.by_condition.setdefault(condition, Tally()).add(result)

    def conditions(self) -> list[str]:
        """Row order: the paper's conditions in the paper's order, then the others alphabetically."""
        # Ablation rows are named by config ('backtracking_verification'): they take the paper's order too.
        names = [n for c in PAPER_CONDITIONS for n in dict.fromkeys((c, config_name(c)))]
        paper = [n for n in names if n in self.by_condition]
        return paper + sorted(c for c in self.by_condition if c not in paper)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: overall and per condition."""
        return {
            **self.overall.to_dict(),
            "conditions": {c: self.by_condition[c].to_dict() for c in self.conditions()},
        }


def tabulate(
    records: Iterable[tuple[str, str]], *, classifier: BehaviorClassifier | None = None, batch: int = BATCH
) -> BehaviorTable:
    """Classify (condition, text) pairs in batches and tally the results."""
    judge = classifier if classifier is not None else RuleClassifier()
    table = BehaviorTable()
    pending: list[tuple[str, str]] = []
    for pair in records:
        pending.append(pair)
        if len(pending) >= batch:
            _flush(table, judge, pending)
    _flush(table, judge, pending)
    return table


def tabulate_records(
    records: Iterable[Mapping[str, Any]], *, classifier: BehaviorClassifier | None = None
) -> BehaviorTable:
    """Tally dict records (`condition`, and `completion` or `text`); one without a text raises ValueError."""

    def pairs() -> Iterable[tuple[str, str]]:
        for number, record in enumerate(records, start=1):
            text = completion_text(record)
            if text is None:
                raise ValueError(f"record {number} has no 'completion' or 'text' string")
            yield condition_of(record), text

    return tabulate(pairs(), classifier=classifier)


def _flush(table: BehaviorTable, judge: BehaviorClassifier, pending: list[tuple[str, str]]) -> None:
    if not pending:
        return
    results = judge.count([text for _, text in pending])
    if len(results) != len(pending):  # a classifier must answer every text: never guess which one it skipped
        raise RuntimeError(
            f"classifier {judge.name!r} returned {len(results)} results for {len(pending)} texts"
        )
    for (condition, _), result in zip(pending, results, strict=True):
        table.add(condition, result)
    pending.clear()


def format_table(table: BehaviorTable) -> str:
    """Plain-text report: per-behavior figures over all records, then condition × behavior."""
    overall = table.overall
    lines = [
        f"records: {overall.records}"
        + (f" ({overall.errors} could not be classified)" if overall.errors else "")
    ]
    lines += ["", f"{'behavior':<20}{'total':>8}{'mean':>9}{'with >=1':>11}"]
    for b in BEHAVIORS:
        lines.append(f"{b:<20}{overall.totals[b]:>8}{overall.mean(b):>9.2f}{overall.share(b):>11.1%}")
    names = table.conditions()
    width = max([len("condition"), *map(len, names)]) + 2
    lines += ["", "condition x behavior: mean count (share of records with >=1)"]
    lines.append(f"{'condition':<{width}}{'n':>6}" + "".join(f"  {b:>19}" for b in BEHAVIORS))
    for name in names:
        tally = table.by_condition[name]
        cells = "".join(f"  {_cell(tally, b):>19}" for b in BEHAVIORS)
        lines.append(f"{name:<{width}}{tally.records:>6}{cells}")
    return "\n".join(lines)


def _cell(tally: Tally, behavior: str) -> str:
    return f"{tally.mean(behavior):.2f} ({tally.share(behavior):.1%})"
