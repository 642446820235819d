"""How often each behavior shows in a classified corpus (the paper's frequency figure), as Markdown and PNG."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS


@dataclass
class Frequency:
    """Running tallies over labelled rows; rows with a label error are counted apart, never as zeros."""

    documents: int = 0
    errors: int = 0
    with_problem_and_solution: int = 0
    any_behavior: int = 0
    showing: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BEHAVIORS, 0))
    total_count: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BEHAVIORS, 0))

    @property
    def labelled(self) -> int:
        """Documents with labels (the denominator of every share)."""
        return self.documents - self.errors

    def add(self, row: dict[str, Any]) -> None:
        """Count one labelled row."""
        self.documents += 1
        if row.get("label_error") or any(row.get(COUNT_FIELDS[b]) is None for b in BEHAVIORS):
            self.errors += 1
            return
        counts = {b: int(row[COUNT_FIELDS[b]]) for b in BEHAVIORS}
        for behavior, count in counts.items():
            self.showing[behavior] += count > 0
            self.total_count[behavior] += count
        self.any_behavior += any(counts.values())
        self.with_problem_and_solution += (row.get("contains_problem") is True
                                           and row.get("contains_solution") is True)

    def track(self, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass rows through, counting each (so one read of the corpus feeds both selection and this table)."""
        for row in rows:
            self.add(row)
            yield row

    def share(self, behavior: str) -> float:
        """Share of labelled documents showing `behavior` at least once."""
        return self.showing[behavior] / self.labelled if self.labelled else 0.0

    def mean(self, behavior: str) -> float:
        """Mean count of `behavior` per labelled document."""
        return self.total_count[behavior] / self.labelled if self.labelled else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "label_errors": self.errors, "labelled": self.labelled,
                "with_problem_and_solution": self.with_problem_and_solution, "any_behavior": self.any_behavior,
                "behaviors": {b: {"documents": self.showing[b], "share": round(self.share(b), 6),
                                  "mean_count": round(self.mean(b), 6)} for b in BEHAVIORS}}


def frequency(rows: Iterable[dict[str, Any]]) -> Frequency:
    """Tallies over all `rows`."""
    tally = Frequency()
    for row in rows:
        tally.add(row)
    return tally


def to_markdown(tally: Frequency) -> str:
    """The table: per behavior, documents showing it, their share, and the mean count per document."""
    any_share = tally.any_behavior / tally.labelled if tally.labelled else 0.0
    lines = [
        "# Behavior frequency in the classified corpus", "",
        f"{tally.labelled:,} labelled documents ({tally.errors:,} label errors left out); "
        f"{tally.with_problem_and_solution:,} contain both a problem and a solution.", "",
        "| behavior | documents | share | mean count |", "|---|---:|---:|---:|",
    ]
    lines += [f"| {b.replace('_', ' ')} | {tally.showing[b]:,} | {tally.share(b):.1%} | {tally.mean(b):.3f} |"
              for b in BEHAVIORS]
    lines.append(f"| any behavior | {tally.any_behavior:,} | {any_share:.1%} | |")
    return "\n".join(lines) + "\n"


def write_png(tally: Frequency, path: Path) -> None:
    """A bar chart of the share of documents showing each behavior; byte-stable (no version stamp)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [b.replace("_", " ") for b in BEHAVIORS]
    shares = [100 * tally.share(b) for b in BEHAVIORS]
    figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
    try:
        bars = axes.bar(names, shares, color="#4C72B0")
        for bar, behavior in zip(bars, BEHAVIORS, strict=True):
            axes.annotate(f"mean {tally.mean(behavior):.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize=8)
        axes.set_ylabel("% of documents")
        axes.set_title(f"Behaviors in {tally.labelled:,} labelled documents")
        axes.set_ylim(0, max([*shares, 1.0]) * 1.2)
        figure.tight_layout()
        figure.savefig(path, format="png", metadata={"Software": None})
    finally:
        plt.close(figure)
