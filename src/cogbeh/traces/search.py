"""The search the traces narrate: states of partial expressions, moves, paths to a goal and genuine dead ends."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from cogbeh.countdown.enumerate import solutions
from cogbeh.countdown.expr import Expr, combine, leaf
from cogbeh.traces.layout import RULES, legal, reaches

State = tuple[Expr, ...]


@dataclass(frozen=True)
class Step:
    """One move of the search: `left op right` -> `result`, from `before` to `after`."""

    left: Expr
    op: str
    right: Expr
    result: Expr
    before: State
    after: State


def start(nums: tuple[int, ...]) -> State:
    """The initial state: one leaf per number."""
    return tuple(leaf(n) for n in nums)


def values(state: State) -> tuple[int, ...]:
    """The numbers a state holds, in state order."""
    return tuple(int(e.value) for e in state)


def apply_move(state: State, i: int, j: int, op: str) -> Step | None:
    """Combine items i and j (in that order) with `op`, or None if illegal or trivial."""
    a, b = state[i], state[j]
    if legal(int(a.value), op, int(b.value)) is None:  # type: ignore[arg-type]
        return None
    result = combine(op, a, b)  # type: ignore[arg-type]
    rest = tuple(e for k, e in enumerate(state) if k not in (i, j))
    return Step(a, op, b, result, state, (*rest, result))


Candidate = tuple[int, int, str, int]  # i, j, op, resulting value: a move not yet built into a Step


def candidate_moves(state: State) -> list[Candidate]:
    """Every non-trivial move from `state` as (i, j, op, value); commutative ones once, larger operand first."""
    found = []
    numbers = values(state)
    for i, x in enumerate(numbers):
        for j, y in enumerate(numbers):
            if i == j:
                continue
            for op in ("+", "-", "*", "/"):
                if op in "+*" and (x, i) < (y, j):
                    continue
                value = legal(x, op, y)  # type: ignore[arg-type]
                if value is not None:
                    found.append((i, j, op, value))
    return found


def after_values(state: State, move: Candidate) -> tuple[int, ...]:
    """The values of the state a candidate move leads to."""
    i, j, _, value = move
    return (*(v for k, v in enumerate(values(state)) if k not in (i, j)), value)


def _has_zero(expr: Expr) -> bool:
    # Paths through 0 (like "14 + 15 * (3 - 3)") are valid but read as tricks, not reasoning.
    return expr.value == 0 or any(_has_zero(part) for part in (*expr.plus, *expr.minus))


#: Whether a move from a state has not been played before (from the same whole table).
Fresh = Callable[[State, tuple[int, str, int]], bool]


def _always(state: State, key: tuple[int, str, int]) -> bool:
    return True


def path_to(
    state: State, goal: int, rng: random.Random, *, first_uses: Expr | None = None, fresh: Fresh = _always,
) -> list[Step] | None:
    """Moves that make `goal` from all of `state` (the first one using `first_uses`, if given), none of them
    played before from the same table (a reader must never see one move tried twice from one table)."""
    if first_uses is not None:
        options = [m for m in candidate_moves(state)
                   if first_uses in (state[m[0]], state[m[1]]) and fresh(state, move_key(state, m))]
        rng.shuffle(options)
        for move in options:
            if reaches(after_values(state, move), goal):
                first = apply_move(state, *move[:3])
                rest = path_to(first.after, goal, rng, fresh=fresh) if len(first.after) > 1 else []  # type: ignore[union-attr]
                if rest is not None:
                    return [first, *rest]  # type: ignore[list-item]
        return None
    found = [e for e in solutions(values(state), goal, rules=RULES, limit=8) if not _has_zero(e)]
    rng.shuffle(found)
    for expr in found:  # the first fresh one in a random order: as random as choosing among all, less work
        path = forward_steps(expr, state)
        if path and all(fresh(step.before, step_key(step)) for step in path):
            return path
    return None


def step_key(step: Step) -> tuple[int, str, int]:
    """A played move by value, commutative ones normalised (see move_key)."""
    x, y = int(step.left.value), int(step.right.value)
    return (max(x, y), step.op, min(x, y)) if step.op in "+*" else (x, step.op, y)


def split_last(expr: Expr) -> tuple[Expr, str, Expr]:
    """The last binary operation of a canonical expression, as a left-to-right reading would perform it."""
    terms, inverse = (expr.plus, expr.minus), ("+", "-") if expr.op == "+" else ("*", "/")
    forward_op, inverse_op = inverse
    if terms[1]:
        last, op = terms[1][-1], inverse_op
        rest_plus, rest_minus = terms[0], terms[1][:-1]
    else:
        last, op = terms[0][-1], forward_op
        rest_plus, rest_minus = terms[0][:-1], terms[1]
    left = rest_plus[0]
    for term in rest_plus[1:]:
        left = combine(forward_op, left, term)  # type: ignore[arg-type]
    for term in rest_minus:
        left = combine(inverse_op, left, term)  # type: ignore[arg-type]
    return left, op, last


def forward_steps(expr: Expr, state: State) -> list[Step]:
    """The moves that build `expr` from `state`, innermost first; every intermediate is a whole number >= 0."""
    if expr.op == "n":
        return []
    left, op, right = split_last(expr)
    steps = forward_steps(left, state)
    state = steps[-1].after if steps else state
    right_steps = forward_steps(right, state)
    steps += right_steps
    state = right_steps[-1].after if right_steps else state
    i = _find(state, left)
    j = _find(state, right, skip=i)
    a, b = state[i], state[j]
    rest = tuple(e for k, e in enumerate(state) if k not in (i, j))
    result = combine(op, a, b)  # type: ignore[arg-type]
    steps.append(Step(a, op, b, result, state, (*rest, result)))
    return steps


def _find(state: State, expr: Expr, *, skip: int = -1) -> int:
    # By text first; by value when the state holds an equal value under another spelling (a solution found
    # over the values of an intermediate state). Either way each state item is used once and the arithmetic
    # is the same.
    for match in (lambda item: item.text == expr.text, lambda item: item.value == expr.value):
        for k, item in enumerate(state):
            if k != skip and match(item):
                return k
    raise ValueError(f"{expr.text} is not in the state")


def _weight(value: int, goal: int) -> float:
    # People try moves that land near the goal; a random walk to 2250 reads like noise, not search.
    return 1.0 / (1.0 + abs(value - goal) / max(goal, 1)) ** 2


def pick_move(options: list[Candidate], goal: int, rng: random.Random) -> Candidate:
    """A move drawn with weight on results near `goal`."""
    return rng.choices(options, weights=[_weight(o[3], goal) for o in options])[0]


def move_key(state: State, move: Candidate) -> tuple[int, str, int]:
    """A move by value, commutative ones normalised: what 'the same first move' means to a reader."""
    x, y = int(state[move[0]].value), int(state[move[1]].value)
    op = move[2]
    return (max(x, y), op, min(x, y)) if op in "+*" else (x, op, y)


def dead_end(
    state: State, goal: int, rng: random.Random, *, full_depth: bool, fresh: Fresh = _always,
    first_uses: Expr | None = None, any_first: bool = False,
) -> list[Step] | None:
    """A branch the search really tries and leaves: a first move not played before from this table, into a
    state that cannot make `goal` (any first move when `any_first`, for a plan that cannot succeed), then
    plausible fresh moves down it (to a single number when `full_depth`)."""
    options = [
        m for m in candidate_moves(state)
        if fresh(state, move_key(state, m)) and (first_uses is None or first_uses in (state[m[0]], state[m[1]]))
    ]
    while options:
        first = pick_move(options, goal, rng)
        options.remove(first)
        if not any_first and reaches(after_values(state, first), goal):
            continue
        path = [apply_move(state, *first[:3])]
        depth = len(state) - 2 if full_depth else rng.randint(0, len(state) - 2)
        while len(path) < depth + 1:
            here = path[-1].after  # type: ignore[union-attr]
            moves = [m for m in candidate_moves(here) if fresh(here, move_key(here, m))]
            if not moves:
                break
            path.append(apply_move(here, *pick_move(moves, goal, rng)[:3]))
        if full_depth and len(path[-1].after) > 1:  # type: ignore[union-attr]
            continue
        if path[-1].result.value == goal:  # type: ignore[union-attr]
            continue  # a plan that cannot succeed as a whole may still hit its value by another route
        return path  # type: ignore[return-value]
    return None
