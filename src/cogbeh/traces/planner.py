"""From a problem and a behavior set to typed steps: where the search backtracks, which subgoals it names,
how far it chains backward, what it checks. Wording is chosen later, by templates."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cogbeh.countdown import Problem, is_solvable, reachable
from cogbeh.countdown.expr import Expr
from cogbeh.traces import search
from cogbeh.traces.steps import Backtrack, BackwardStep, Check, Conclude, Intro, Move, Step, Subgoal


class NoTrace(Exception):
    """This problem cannot carry the requested structure (e.g. no dead end to explore); try another."""


@dataclass(frozen=True)
class Plan:
    """The steps of one trace and the expression it answers with."""

    steps: tuple[Step, ...]
    answer: str
    answer_value: int


def _move(step: search.Step) -> Move:
    remaining = search.values(step.after)
    return Move("move", int(step.left.value), step.op, int(step.right.value), int(step.result.value), remaining)  # type: ignore[arg-type]


def _inverse(goal: int, op: str, partner: int, needed: int, needed_first: bool) -> str:
    if op == "+":
        return f"{goal} - {partner} = {needed}"
    if op == "*":
        return f"{goal} / {partner} = {needed}"
    if op == "-":
        return f"{goal} + {partner} = {needed}" if needed_first else f"{partner} - {goal} = {needed}"
    return f"{goal} * {partner} = {needed}" if needed_first else f"{partner} / {goal} = {needed}"


def _relation(goal: int, op: str, needed: int, partner: int, needed_first: bool) -> str:
    a, b = (needed, partner) if needed_first else (partner, needed)
    return f"{a} {op} {b} = {goal}"


def _decompose(expr: Expr) -> tuple[Expr, str, Expr, bool] | None:
    """Split off the last operation as (composite part, op, other part, composite part comes first)."""
    if expr.op == "n":
        return None
    left, op, right = search.split_last(expr)
    if left.op != "n" or right.op == "n":
        return left, op, right, True
    return right, op, left, False


def backward_chain(solution: Expr, target: int, depth: int) -> list[BackwardStep]:
    """Up to `depth` steps from the target down the solution: what the remaining numbers must make."""
    steps: list[BackwardStep] = []
    expr, goal = solution, target
    while len(steps) < depth:
        parts = _decompose(expr)
        if parts is None or parts[0].op == "n":
            break
        needed, op, partner, needed_first = parts
        n_val, p_val = int(needed.value), int(partner.value)
        steps.append(
            BackwardStep(
                "backward", goal, op, p_val, tuple(partner.numbers()), n_val, tuple(needed.numbers()),  # type: ignore[arg-type]
                _relation(goal, op, n_val, p_val, needed_first), _inverse(goal, op, p_val, n_val, needed_first),
            )
        )
        expr, goal = needed, n_val
    return steps


def main_subgoal(solution: Expr, target: int) -> Subgoal | None:
    """The intermediate value the solution builds before its last operation."""
    parts = _decompose(solution)
    if parts is None or parts[0].op == "n":
        return None
    sub, op, partner, sub_first = parts
    s_val, p_val = int(sub.value), int(partner.value)
    relation = _RELATIONS[(op, sub_first)]
    equation = _relation(target, op, s_val, p_val, sub_first)
    return Subgoal("subgoal", s_val, target, op, p_val, relation, equation, tuple(sub.numbers()))  # type: ignore[arg-type]


#: How a subgoal s relates to the goal T, by the last operation and whether s comes first in it.
_RELATIONS = {
    ("*", True): "factor",  # s * p = T
    ("*", False): "factor",
    ("/", True): "multiple",  # s / p = T
    ("/", False): "quotient",  # p / s = T
    ("+", True): "below",  # s + p = T
    ("+", False): "below",
    ("-", True): "above",  # s - p = T
    ("-", False): "difference",  # p - s = T
}


def failed_subgoal(state: search.State, target: int, avoid: int, rng: random.Random) -> tuple[Subgoal, search.State] | None:
    """A factor of the target whose cofactor is on the table but which the other numbers cannot make."""
    held = search.values(state)
    options = []
    # Trial division: targets have at most a few digits (sympy's divisors cost a 0.6 s import per process).
    for factor in (d for d in range(2, target) if target % d == 0):
        cofactor = target // factor
        if factor == avoid or cofactor not in held or factor in held:
            continue
        k = held.index(cofactor)
        rest = tuple(e for i, e in enumerate(state) if i != k)
        if len(rest) >= 2 and not is_solvable(search.values(rest), factor, rules=search.RULES):
            options.append((factor, cofactor, rest))
    if not options:
        return None
    factor, cofactor, rest = rng.choice(options)
    equation = f"{factor} * {cofactor} = {target}"
    goal = Subgoal("subgoal", factor, target, "*", cofactor, "factor", equation, search.values(rest))
    return goal, rest


@dataclass(frozen=True)
class Shape:
    """Which behaviors a trace shows and how often: the knobs a condition turns."""

    verification: bool
    backtracking: bool
    subgoal_setting: bool
    backward_chaining: bool
    backtracks: int = 0
    backward_depth: int = 1
    backward_exact: bool = False  # the chain must be exactly backward_depth steps long (else: up to it)
    incorrect: bool = False


def plan(problem: Problem, shape: Shape, rng: random.Random) -> Plan:
    """Run the search for `problem` and lay out the steps that `shape` asks to show."""
    target, s0 = problem.target, search.start(problem.nums)
    accept = (lambda e: _useful_subgoal(main_subgoal(e, target))) if shape.subgoal_setting else None
    solution = search.pick_solution(problem.nums, target, rng, accept=accept)
    if solution is None:
        raise NoTrace("no whole-number solution without a zero intermediate (and with a useful subgoal)")
    goal = main_subgoal(solution, target)
    path_expr = _near_miss(solution, target, s0) if shape.incorrect else solution
    main = search.forward_steps(path_expr, s0)
    steps: list[Step] = [Intro("intro", problem.nums, target)]
    if shape.backward_chaining:
        chain = backward_chain(solution, target, shape.backward_depth)
        if not chain or (shape.backward_exact and len(chain) < shape.backward_depth):
            raise NoTrace(f"the solution cannot chain back {shape.backward_depth} step(s)")
        steps += chain
    if shape.subgoal_setting:
        if goal is None:
            raise NoTrace("the solution has no intermediate value to aim for")
        steps.append(goal)
    bases = sorted(0 if rng.random() < 0.5 else rng.randrange(len(main)) for _ in range(shape.backtracks))
    for index in range(len(main) + 1):
        state = main[index].before if index < len(main) else main[-1].after
        for _ in range(bases.count(index)):
            avoid = search.values(main[index].after) if index < len(main) else None
            steps += _dead_end_episode(state, target, shape, goal, rng, to_start=index == 0, avoid=avoid)
        if index < len(main):
            steps.append(_move(main[index]))
            if shape.verification and shape.subgoal_setting and goal and _builds_subgoal(main, index, goal, path_expr):
                steps.append(Check("check", int(main[index].result.value), goal.value, False))
    value = int(path_expr.value)
    if shape.verification:
        steps.append(Check("check", value, target, True))
    steps.append(Conclude("conclude", path_expr.text, value, target, shape.incorrect))
    return Plan(tuple(steps), path_expr.text, value)


def _useful_subgoal(goal: Subgoal | None) -> bool:
    # "Aim for 16 first, since 16 * 1 = 16" names the target itself: no intermediate goal at all.
    if goal is None or goal.value in (1, goal.goal):
        return False
    return not (goal.op in "*/" and goal.partner == 1)


def _builds_subgoal(main: list[search.Step], index: int, goal: Subgoal, path: Expr) -> bool:
    # The move that finishes the subgoal's part is the one whose result uses exactly the subgoal's numbers.
    return sorted(main[index].result.numbers()) == sorted(goal.pool) and index < len(main) - 1


def _dead_end_episode(
    state: search.State, target: int, shape: Shape, goal: Subgoal | None, rng: random.Random, *, to_start: bool,
    avoid: tuple[int, ...] | None = None,
) -> list[Step]:
    """One abandoned branch from `state`; never the move the trace goes on to take from there (`avoid`)."""
    steps: list[Step] = []
    full = shape.verification or rng.random() < 0.5
    path, compare_to, is_target = None, target, True
    if shape.subgoal_setting and goal is not None and rng.random() < 0.6:
        aim = _subgoal_attempt(state, target, goal, rng, to_start=to_start)
        if aim is not None:
            sub, rest = aim
            path = search.dead_end(rest, sub.value, rng, full_depth=full, avoid=avoid)
            compare_to, is_target = sub.value, False
            if path and sub is not goal:
                steps.append(sub)  # a new, different subgoal: name it before pursuing it
    if not path:
        path = search.dead_end(state, target, rng, full_depth=full, avoid=avoid)
        compare_to, is_target = target, True
    if not path:
        raise NoTrace("no dead end to explore from this state")
    steps += [_move(step) for step in path]
    if shape.verification:
        steps.append(Check("check", int(path[-1].result.value), compare_to, is_target))
    steps.append(Backtrack("backtrack", search.values(state), to_start, search.values(path[0].after), compare_to))
    return steps


def _subgoal_attempt(
    state: search.State, target: int, goal: Subgoal, rng: random.Random, *, to_start: bool
) -> tuple[Subgoal, search.State] | None:
    """Either a different factor of the target that cannot be made, or a failed try at the main subgoal."""
    other = failed_subgoal(state, target, goal.value, rng)
    if other is not None and (rng.random() < 0.5 or not to_start):
        return other
    if not to_start:
        return None
    # At the start the main subgoal's numbers are all still on the table: a try at it that goes wrong.
    pool = search.start(goal.pool)
    return goal, pool


def _near_miss(solution: Expr, target: int, s0: search.State) -> Expr:
    """A wrong expression with the solution's shape: its main part made as close as the numbers allow."""
    parts = _decompose(solution)
    if parts is not None and parts[0].op != "n":
        sub, op, partner, sub_first = parts
        pool = search.start(tuple(sub.numbers()))
        options = []
        for value in reachable(sub.numbers(), rules=search.RULES):
            built = search.build(pool, value) if value != sub.value else None
            if built is None:
                continue
            a, b = (built, partner) if sub_first else (partner, built)
            step = search.apply_move((a, b), 0, 1, op)
            if step is not None and step.result.value != target:
                options.append(step.result)
        if options:  # the attempt that lands nearest the target, as a search that ran out of budget would keep
            return min(options, key=lambda e: (abs(e.value - target), e.text))
    value = search.closest_value(s0, target, avoid=target)
    built = search.build(s0, value) if value is not None else None
    if built is None:
        raise NoTrace("no wrong expression to settle for")
    return built
