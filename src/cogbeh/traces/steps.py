"""Typed trace steps: what the search did, before any wording is chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Op = Literal["+", "-", "*", "/"]


@dataclass(frozen=True)
class Intro:
    """The problem statement at the top of the think block."""

    kind: Literal["intro"]
    nums: tuple[int, ...]
    target: int


@dataclass(frozen=True)
class Move:
    """Combine two current values; `remaining` is the state afterwards."""

    kind: Literal["move"]
    left: int
    op: Op
    right: int
    result: int
    remaining: tuple[int, ...]


@dataclass(frozen=True)
class Check:
    """Verification: an explicit comparison of `value` with `goal` (the target or a subgoal)."""

    kind: Literal["check"]
    value: int
    goal: int
    is_target: bool


@dataclass(frozen=True)
class Backtrack:
    """Abandon the current path and return to an earlier state."""

    kind: Literal["backtrack"]
    state: tuple[int, ...]
    to_start: bool
    abandoned: tuple[int, ...]  # the state the abandoned branch's first move led to
    goal: int  # what that branch was trying to make (the target, or a subgoal)


@dataclass(frozen=True)
class Subgoal:
    """Name an intermediate value to build from `pool`, justified by how it relates to the goal."""

    kind: Literal["subgoal"]
    value: int
    goal: int
    op: Op
    partner: int
    relation: Literal["factor", "multiple", "below", "above", "difference", "quotient"]
    equation: str  # the true relation, e.g. '8 * 4 = 32'
    pool: tuple[int, ...]


@dataclass(frozen=True)
class BackwardStep:
    """Reason from `goal` back to what is needed: goal = needed op partner, with partner built from known parts."""

    kind: Literal["backward"]
    goal: int
    op: Op
    partner: int
    partner_pool: tuple[int, ...]  # one number, or the numbers the partner is built from
    needed: int
    pool: tuple[int, ...]
    equation: str  # the true relation, e.g. '8 * 4 = 32'
    inverse: str  # how `needed` follows, e.g. '32 / 4 = 8'


@dataclass(frozen=True)
class Conclude:
    """State the expression the trace ends on (correct or, in incorrect mode, the closest found)."""

    kind: Literal["conclude"]
    expression: str
    value: int
    target: int
    settled: bool  # True when the search gave up and settled for a wrong expression


Step = Intro | Move | Check | Backtrack | Subgoal | BackwardStep | Conclude
