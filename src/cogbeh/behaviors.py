"""The four cognitive behaviors, conditions over them, and the paper's condition names."""

from __future__ import annotations

from typing import Literal, get_args

Behavior = Literal["backtracking", "backward_chaining", "subgoal_setting", "verification"]

#: Canonical behaviors in canonical (alphabetical) order; a condition lists its behaviors in this order.
BEHAVIORS: tuple[Behavior, ...] = get_args(Behavior)

#: What a reader points at in a trace, one line per behavior (used in cards, prompts and help).
DESCRIPTIONS: dict[Behavior, str] = {
    "verification": "explicitly checks an intermediate or final result against the goal",
    "backtracking": "abandons a path that is not working and returns to an earlier state to try another",
    "subgoal_setting": "names an intermediate target (a factor, multiple or near value of the target) and pursues it",
    "backward_chaining": "reasons from the target back toward the inputs",
}

#: The paper's condition names (Gandhi et al. 2025, priming sets) mapped to behavior sets.
PAPER_ALIASES: dict[str, frozenset[Behavior]] = {
    "negative_control": frozenset(),
    "only_backtracking": frozenset({"backtracking"}),
    "backtracking_verification": frozenset({"backtracking", "verification"}),
    "backtracking_backward": frozenset({"backtracking", "backward_chaining"}),
    "backtracking_subgoal": frozenset({"backtracking", "subgoal_setting"}),
    "all_strategies": frozenset(BEHAVIORS),
}

#: The six priming conditions of the paper, in the paper's order.
PAPER_CONDITIONS: tuple[str, ...] = (
    "none",
    "backtracking",
    "backtracking+verification",
    "backtracking+backward_chaining",
    "backtracking+subgoal_setting",
    "all",
)

#: Most dead ends one trace narrates (--backtracks, a spec's `backtracks`). The planner finds 16 distinct dead
#: ends on most problems in a second or less; far beyond that it searches without end (1-1000000 hung).
MAX_BACKTRACKS = 16
#: Most backward-chaining steps in one trace (--backward-steps). Each step peels one number off down to a pair,
#: so a preset allows its largest size minus 2: 4 for classic's six numbers, 2 for paper and tinyzero.
MAX_BACKWARD_STEPS = 4


class UnknownBehaviorError(ValueError):
    """A behavior or condition name that is not in the registry."""


def valid_names() -> list[str]:
    """Every name `parse_condition` accepts as one part (plus any '+'-joined set of behaviors)."""
    return [*BEHAVIORS, "all", "none", *PAPER_ALIASES]


def parse_condition(text: str) -> frozenset[Behavior]:
    """Turn 'backtracking+verification', 'all', 'none' or a paper alias into a behavior set."""
    name = text.strip()
    if name == "all":
        return frozenset(BEHAVIORS)
    if name in ("none", ""):
        if name == "":
            raise UnknownBehaviorError(f"empty behavior name; valid: {', '.join(valid_names())}")
        return frozenset()
    if name in PAPER_ALIASES:
        return PAPER_ALIASES[name]
    parts = name.split("+")
    chosen: set[Behavior] = set()
    for part in parts:
        part = part.strip()
        if part not in BEHAVIORS:
            what = "a dangling '+'" if part == "" else f"unknown behavior {part!r}"
            raise UnknownBehaviorError(
                f"{what} in {text!r}; valid: {', '.join(valid_names())} or a '+'-joined set of behaviors"
            )
        chosen.add(part)  # type: ignore[arg-type]
    return frozenset(chosen)


def condition_name(behaviors: frozenset[Behavior] | set[Behavior]) -> str:
    """Canonical condition name: 'none', 'all', or behaviors '+'-joined in alphabetical order."""
    if not behaviors:
        return "none"
    if set(behaviors) == set(BEHAVIORS):
        return "all"
    return "+".join(b for b in BEHAVIORS if b in behaviors)


def canonical_condition(text: str) -> str:
    """Normalise any accepted spelling of a condition to its canonical name."""
    return condition_name(parse_condition(text))


def config_name(condition: str) -> str:
    """Snake-case name for a Hub config, e.g. 'backtracking+verification' -> 'backtracking_verification'."""
    return condition.replace("+", "_")
