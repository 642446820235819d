"""Which plans a trace announces: backward chains over given numbers, and subgoals named for a property.

The two are kept apart by content, as the paper's generation prompts define them. A backward step inverts an
operation on the goal with one given number ("24 / 2 = 12, so the rest must make 12"). A subgoal is a value
chosen because it is a factor, a multiple or a near value of the goal, and then built forward; it is never
derived by inverting the goal and never the goal itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from cogbeh.countdown import is_solvable, reachable
from cogbeh.traces.steps import BackwardStep, Op, Property, Subgoal

RULES = "integer"  # traces only show non-negative whole-number steps


def close_to(value: int, goal: int) -> bool:
    """'Close to the goal' as traces use it: within a fifth of the goal (at least 2), and not the goal."""
    return value != goal and value > 0 and abs(value - goal) <= max(2, goal // 5)


def property_of(value: int, goal: int) -> Property | None:
    """Why `value` is worth reaching on the way to `goal`: factor, multiple, close, or None."""
    if 1 < value < goal and goal % value == 0:
        return "factor"
    if value > goal > 0 and value % goal == 0:
        return "multiple"
    return "close" if close_to(value, goal) else None


def _inversions(goal: int, partner: int) -> Iterator[tuple[Op, int, bool]]:
    """(op, needed, partner_first) with `needed op partner = goal` (or `partner op needed`), non-trivial."""
    if goal - partner > 0:
        yield "+", goal - partner, False
    if partner > 1 and goal % partner == 0 and goal // partner > 1:
        yield "*", goal // partner, False
    yield "-", goal + partner, False
    if partner - goal > 0:
        yield "-", partner - goal, True
    if partner > 1:
        yield "/", goal * partner, False
    if goal > 1 and partner % goal == 0 and partner // goal > 1:
        yield "/", partner // goal, True


def _without(pool: tuple[int, ...], value: int) -> tuple[int, ...]:
    k = pool.index(value)
    return pool[:k] + pool[k + 1 :]


def backward_chains(table: tuple[int, ...], goal: int, depth: int) -> list[tuple[BackwardStep, ...]]:
    """Every chain of `depth` backward steps from `goal`, each undoing an operation with one given number.
    The last step leaves a pool of at least two numbers; whether that pool can make its value is not checked."""
    if depth == 0:
        return [()]
    chains: list[tuple[BackwardStep, ...]] = []
    for partner in sorted(set(table)):
        pool = _without(table, partner)
        if len(pool) < 2:
            continue
        for op, needed, partner_first in _inversions(goal, partner):
            if needed == goal:
                continue
            step = BackwardStep("backward", goal, op, partner, needed, pool, partner_first)
            chains += [(step, *rest) for rest in backward_chains(pool, needed, depth - 1)]
    return chains


def reachable_values(pool: tuple[int, ...]) -> list[int]:
    """Every whole number `pool`, all of it, can make under the traces' rules, ascending."""
    return sorted(v for v in reachable(pool, rules=RULES) if isinstance(v, int))


def reaches(values: Sequence[int], goal: int) -> bool:
    """Whether all of `values` can still make `goal` (one value: it is the goal)."""
    return list(values) == [goal] if len(values) == 1 else makes(tuple(values), goal)


def makes(pool: tuple[int, ...], value: int) -> bool:
    """Whether `pool`, all of it, can make `value` under the traces' rules."""
    return is_solvable(pool, value, rules=RULES)


@dataclass(frozen=True)
class SubgoalChoice:
    """A subgoal and the numbers it is built from (the rest stay on the table)."""

    subgoal: Subgoal
    rest: tuple[int, ...]


def subgoal_options(table: tuple[int, ...], goal: int, *, reachable_only: bool = True) -> list[SubgoalChoice]:
    """Subgoals over proper sub-pools of `table` (at least two numbers): values with a property relative to
    `goal` that the pool can make (or, with reachable_only=False, cannot make: a plan that will fail)."""
    options: list[SubgoalChoice] = []
    seen: set[tuple[int, tuple[int, ...]]] = set()
    for size in range(2, len(table)):
        for chosen in itertools.combinations(range(len(table)), size):
            pool = tuple(table[i] for i in chosen)
            rest = tuple(table[i] for i in range(len(table)) if i not in chosen)
            values = reachable(pool, rules=RULES)
            candidates = values if reachable_only else _nearby(goal) - set(values)
            for value in sorted(v for v in candidates if isinstance(v, int)):
                if not reachable_only and value in pool:
                    continue  # "make 16 out of 16 and 22" reads as a riddle, not a plan
                relation = property_of(value, goal)
                key = (value, tuple(sorted(pool)))
                if relation is None or key in seen:
                    continue
                seen.add(key)
                options.append(SubgoalChoice(Subgoal("subgoal", value, goal, relation, pool), rest))
    return options


def _nearby(goal: int) -> set[int]:
    # Candidate values for a plan that fails: the goal's factors, small multiples and near values.
    found = {d for d in range(2, goal) if goal % d == 0}
    found |= {goal * k for k in (2, 3, 4)}
    found |= {v for v in range(goal - max(2, goal // 5), goal + max(2, goal // 5) + 1) if close_to(v, goal)}
    return found


def continues(rest: tuple[int, ...], value: int, goal: int) -> bool:
    """Whether, with `value` made, some first move that uses it leads on to `goal` with `rest`."""
    for k, partner in enumerate(rest):
        others = rest[:k] + rest[k + 1 :]
        for x, y in ((value, partner), (partner, value)):
            for op in "+-*/":
                result = legal(x, op, y)  # type: ignore[arg-type]
                if result is not None and (makes((*others, result), goal) if others else result == goal):
                    return True
    return False


def legal(x: int, op: Op, y: int) -> int | None:
    """`x op y` under the traces' rules, minus the moves nobody writes (zero or negative differences, x * 1,
    x / 1), or None."""
    if op == "+":
        return x + y
    if op == "-":
        return x - y if x > y else None
    if op == "*":
        return x * y if x != 1 and y != 1 else None
    return x // y if y > 1 and x % y == 0 else None
