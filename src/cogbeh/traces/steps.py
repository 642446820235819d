"""Typed trace steps: what the search did, before any wording is chosen.

The auditor (cogbeh.audit) reads the same types back out of rendered text, so every field a sentence states
is a field here, and fields a sentence may leave unsaid are Optional on the reading side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Op = Literal["+", "-", "*", "/"]
#: Why a subgoal is worth reaching, relative to the goal it serves (the paper's three properties).
Property = Literal["factor", "multiple", "close"]


@dataclass(frozen=True)
class Intro:
    """The problem statement at the top of the think block."""

    kind: Literal["intro"]
    nums: tuple[int, ...]
    target: int


@dataclass(frozen=True)
class Move:
    """Combine two values on the table; `remaining` is the whole table afterwards (None: not narrated)."""

    kind: Literal["move"]
    left: int
    op: Op
    right: int
    result: int
    remaining: tuple[int, ...] | None
    first: bool = False  # the very first move of the trace (no "Next"/"Then" before it)


@dataclass(frozen=True)
class Check:
    """Verification: an explicit comparison of the value just produced with the live goal."""

    kind: Literal["check"]
    value: int
    goal: int
    is_target: bool


@dataclass(frozen=True)
class Backtrack:
    """Return to an earlier state (the whole table), optionally setting a plan's value aside."""

    kind: Literal["backtrack"]
    state: tuple[int, ...]
    to_start: bool
    dropped: int | None = None  # the value of a plan given up here, named in the same sentence
    evaluative: bool = False  # may say why ("that doesn't work"): only where verification is shown


@dataclass(frozen=True)
class Subgoal:
    """Name an intermediate value to build first from `pool`, for a property it has relative to `goal`."""

    kind: Literal["subgoal"]
    value: int
    goal: int
    relation: Property
    pool: tuple[int, ...]


@dataclass(frozen=True)
class BackwardStep:
    """From `goal`, undo a last operation with the given number `partner`: `pool` must then make `needed`."""

    kind: Literal["backward"]
    goal: int
    op: Op  # the forward operation: needed op partner = goal (or partner op needed = goal)
    partner: int
    needed: int
    pool: tuple[int, ...]
    partner_first: bool  # goal = partner op needed (e.g. 30 - needed = goal)

    @property
    def inverse(self) -> str:
        """How `needed` follows from the goal, e.g. '24 / 2 = 12'."""
        g, p, n = self.goal, self.partner, self.needed
        if self.op == "+":
            return f"{g} - {p} = {n}"
        if self.op == "*":
            return f"{g} / {p} = {n}"
        if self.op == "-":
            return f"{p} - {g} = {n}" if self.partner_first else f"{g} + {p} = {n}"
        return f"{p} / {g} = {n}" if self.partner_first else f"{g} * {p} = {n}"

    @property
    def forward(self) -> str:
        """The planned last move, e.g. '12 * 2 = 24'."""
        a, b = (self.partner, self.needed) if self.partner_first else (self.needed, self.partner)
        return f"{a} {self.op} {b} = {self.goal}"


@dataclass(frozen=True)
class Settle:
    """Incorrect mode: give up on a plan's value and carry on with the value the search did reach."""

    kind: Literal["settle"]
    planned: int
    instead: int


@dataclass(frozen=True)
class Conclude:
    """State the expression the trace ends on (correct or, in incorrect mode, the best one found)."""

    kind: Literal["conclude"]
    expression: str
    value: int
    target: int
    settled: bool  # True when the search ran out of budget and settles for a wrong expression
    evaluative: bool = False  # may call it the closest found: only where verification is shown


Step = Intro | Move | Check | Backtrack | Subgoal | BackwardStep | Settle | Conclude
