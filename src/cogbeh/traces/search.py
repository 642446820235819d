"""The search the traces narrate: states of partial expressions, moves, solutions and genuine dead ends."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from cogbeh.countdown.enumerate import solutions
from cogbeh.countdown.expr import Expr, combine, leaf
from cogbeh.countdown.solver import is_solvable, reachable

RULES = "integer"  # traces only show non-negative whole-number steps, as the paper's own solver does

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


def _legal(x: int, op: str, y: int) -> int | None:
    # Integer rules, minus the moves nobody writes: zero or negative differences, x * 1, x / 1.
    if op == "+":
        return x + y
    if op == "-":
        return x - y if x > y else None
    if op == "*":
        return x * y if x != 1 and y != 1 else None
    return x // y if y > 1 and x % y == 0 else None


def apply_move(state: State, i: int, j: int, op: str) -> Step | None:
    """Combine items i and j (in that order) with `op` under integer rules, or None if illegal or trivial."""
    a, b = state[i], state[j]
    if _legal(int(a.value), op, int(b.value)) is None:
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
                value = _legal(x, op, y)
                if value is not None:
                    found.append((i, j, op, value))
    return found


def solvable(state: State, target: int) -> bool:
    """Whether the state can still reach `target` using all its values."""
    return is_solvable(values(state), target, rules=RULES)


def pick_solution(
    nums: tuple[int, ...], target: int, rng: random.Random, *, accept: Callable[[Expr], bool] | None = None
) -> Expr | None:
    """A random canonical solution under integer rules with no zero along the way, and passing `accept`."""
    found = [e for e in solutions(nums, target, rules=RULES, limit=8) if not _has_zero(e)]
    if accept is not None:
        found = [e for e in found if accept(e)]
    return rng.choice(found) if found else None


def _has_zero(expr: Expr) -> bool:
    # Solutions that pass through 0 (like "14 + 15 * (3 - 3)") are valid but read as tricks, not reasoning.
    return expr.value == 0 or any(_has_zero(part) for part in (*expr.plus, *expr.minus))


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


def _pick(options: list[Candidate], goal: int, rng: random.Random) -> Candidate:
    return rng.choices(options, weights=[_weight(o[3], goal) for o in options])[0]


def _after(state: State, move: Candidate) -> tuple[int, ...]:
    i, j, _, value = move
    return (*(v for k, v in enumerate(values(state)) if k not in (i, j)), value)


def dead_end(
    state: State, target: int, rng: random.Random, *, full_depth: bool, avoid: tuple[int, ...] | None = None
) -> list[Step] | None:
    """A branch the search really tries and leaves: a first move into a state that cannot reach `target`,
    then plausible moves down it (to a single number when `full_depth`). A first move leading to the state
    `avoid` (the one the trace takes next) is not a branch to abandon."""
    first_moves = [m for m in candidate_moves(state) if avoid is None or sorted(_after(state, m)) != sorted(avoid)]
    while first_moves:
        first = _pick(first_moves, target, rng)
        first_moves.remove(first)
        if is_solvable(_after(state, first), target, rules=RULES):
            continue
        path = [apply_move(state, *first[:3])]
        depth = len(state) - 2 if full_depth else rng.randint(0, len(state) - 2)
        while len(path) < depth + 1:
            here = path[-1].after  # type: ignore[union-attr]
            options = candidate_moves(here)
            if not options:
                break
            path.append(apply_move(here, *_pick(options, target, rng)[:3]))
        if full_depth and len(path[-1].after) > 1:  # type: ignore[union-attr]
            continue
        return path  # type: ignore[return-value]
    return None


def closest_value(state: State, goal: int, *, avoid: int) -> int | None:
    """The reachable value of `state` nearest `goal` other than `avoid` (ties: the smaller)."""
    options = [v for v in reachable(values(state), rules=RULES) if v != avoid and isinstance(v, int)]
    return min(options, key=lambda v: (abs(v - goal), v)) if options else None


def build(state: State, value: int) -> Expr | None:
    """Some expression over all of `state`'s values that makes `value` (None if unreachable)."""
    found = solutions(values(state), value, rules=RULES, limit=1)
    return found[0] if found else None
