"""The label schema of a curated document and the one interface every labeler (rules, LLM, fastText) offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cogbeh.behaviors import BEHAVIORS

#: Column per behavior count in a labelled row (the paper's released sets name them backtrack_count, ...).
COUNT_FIELDS: dict[str, str] = {b: f"{b}_count" for b in BEHAVIORS}
#: Columns every labelled row carries besides `id` and `text` (and the input's own columns).
LABEL_FIELDS: tuple[str, ...] = (*COUNT_FIELDS.values(), "contains_problem", "contains_solution", "label_error",
                                 "judge")


@dataclass(frozen=True)
class DocumentLabels:
    """What a labeler found in one document. `None` for problem/solution: this labeler does not say."""

    counts: dict[str, int]
    contains_problem: bool | None = None
    contains_solution: bool | None = None

    def __post_init__(self) -> None:
        if set(self.counts) != set(BEHAVIORS) or any(int(v) < 0 for v in self.counts.values()):
            raise ValueError(f"counts must give a non-negative count for each of {', '.join(BEHAVIORS)}")

    @property
    def rich(self) -> bool:
        """Any behavior shown at least once."""
        return any(self.counts.values())

    def to_row(self, judge: str) -> dict[str, Any]:
        """The label columns of a labelled row."""
        return {**{COUNT_FIELDS[b]: int(self.counts[b]) for b in BEHAVIORS},
                "contains_problem": self.contains_problem, "contains_solution": self.contains_solution,
                "label_error": None, "judge": judge}


@dataclass(frozen=True)
class LabelError:
    """A document that could not be labelled (an unparseable or failed judge answer): never a silent 0."""

    reason: str

    def to_row(self, judge: str) -> dict[str, Any]:
        """Label columns with every count None and the reason in `label_error`."""
        return {**{field: None for field in COUNT_FIELDS.values()}, "contains_problem": None,
                "contains_solution": None, "label_error": self.reason, "judge": judge}


@runtime_checkable
class Labeler(Protocol):
    """Labels documents; one result per input text, in input order. `name` is recorded in every row."""

    name: str

    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]: ...


def make_labeler(spec: str, **options: Any) -> Labeler:
    """`rules`, `fasttext:PATH` or `PROVIDER:MODEL` (anthropic, openai) -> a Labeler; ValueError names the forms.

    Options go to the LLM labeler (base_url, prompts, cache folder, cost cap, ...) and are ignored by the others.
    """
    if spec == "rules":
        from cogbeh.curate.rules import RuleLabeler

        return RuleLabeler()
    kind, _, rest = spec.partition(":")
    if kind == "fasttext" and rest:
        from cogbeh.curate.distill import FastTextLabeler

        return FastTextLabeler(rest)
    if kind in ("anthropic", "openai") and rest:
        from cogbeh.curate.judge import LLMLabeler

        return LLMLabeler(kind, rest, **options)
    raise ValueError(f"--judge takes rules, fasttext:PATH or PROVIDER:MODEL (anthropic, openai), got {spec!r}")
