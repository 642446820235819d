"""Behavior classifiers: count verification, backtracking, subgoal setting and backward chaining."""

from __future__ import annotations

from cogbeh.classify.base import (
    BehaviorClassifier,
    BehaviorCounts,
    ClassifyError,
    RuleClassifier,
    count_behaviors,
)
from cogbeh.classify.rules import focus

__all__ = [
    "BehaviorClassifier",
    "BehaviorCounts",
    "ClassifyError",
    "RuleClassifier",
    "count_behaviors",
    "focus",
]
