"""One interface for every behavior classifier (these rules, an LLM judge later) and the rule classifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cogbeh.classify import rules

#: Exactly the four BEHAVIORS keys, in BEHAVIORS order, each a non-negative count.
BehaviorCounts = dict[str, int]


@dataclass(frozen=True)
class ClassifyError:
    """A text that could not be classified (e.g. an unparseable judge answer): never a silent 0."""

    reason: str


@runtime_checkable
class BehaviorClassifier(Protocol):
    """Counts the four behaviors in each text; one result per input, in input order."""

    name: str

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]: ...


class RuleClassifier:
    """The offline classifier: cue phrases counted per occurrence (see `cogbeh.classify.rules`).

    Units: verification, one per result compared with the goal; backtracking, one per abandoned path;
    subgoal_setting, one per distinct intermediate value named as a target; backward_chaining, one per step
    that turns a goal into what the remaining numbers must make.
    """

    name = "rules"

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        """Counts for each text; a non-string item gives a ClassifyError instead of raising."""
        results: list[BehaviorCounts | ClassifyError] = []
        for text in texts:
            if isinstance(text, str):
                results.append(rules.count(text))
            else:
                results.append(ClassifyError(f"expected a string, got {type(text).__name__}"))
        return results


def count_behaviors(text: str) -> BehaviorCounts:
    """The four behavior counts for one completion (inside its <think> block when it has one)."""
    if not isinstance(text, str):
        raise TypeError(f"count_behaviors expects a string, got {type(text).__name__}")
    return rules.count(text)
