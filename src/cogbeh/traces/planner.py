"""From a problem and a behavior set to typed steps: which plans the trace announces, where the search branches
and backtracks, what it checks. Wording is chosen later, by templates.

Every step is generated from the exact state of the search, so the narration is true by construction: plans
are announced with the numbers they use and then pursued (dead ends branch inside the live plan's numbers), a
plan that fails is dropped in so many words, a branch is abandoned only when its goal is out of reach from it,
and no first move is tried twice from the same table.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cogbeh.countdown import Problem
from cogbeh.countdown.expr import Expr, combine
from cogbeh.traces import layout, search
from cogbeh.traces.steps import Backtrack, BackwardStep, Check, Conclude, Intro, Move, Settle, Step, Subgoal

#: Share of dead ends spent on a plan that is named, tried and dropped (where the condition names plans).
FAILED_PLAN_SHARE = 0.35


class NoTrace(Exception):
    """This problem cannot carry the requested structure (e.g. no dead end to explore); try another."""


@dataclass(frozen=True)
class Plan:
    """The steps of one trace and the expression it answers with."""

    steps: tuple[Step, ...]
    answer: str
    answer_value: int


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


@dataclass(frozen=True)
class _Layout:
    """The plans a trace announces (a subgoal, a backward chain finished forward at the end, or both) and the
    kind of plan a dead end may name, try and drop."""

    subgoal: Subgoal | None
    chain: tuple[BackwardStep, ...]
    failed_kind: str | None
    min_failed: int = 0  # dropped plans needed for the behavior to show at all (no main plan fits)


class _Trace:
    """The table as the narration sees it, and the steps laid out so far."""

    def __init__(self, problem: Problem, shape: Shape, rng: random.Random) -> None:
        self.problem, self.shape, self.rng = problem, shape, rng
        self.table: search.State = search.start(problem.nums)
        self.steps: list[Step] = [Intro("intro", problem.nums, problem.target)]
        self.played: set[tuple[tuple[int, ...], tuple[int, str, int]]] = set()  # (table, move) pairs shown

    def fresh_in(self, scope: search.State) -> search.Fresh:
        """A test for moves inside `scope` (items of the table): not yet played from the same whole table."""
        outside = tuple(int(e.value) for e in self.table if not any(e is s for s in scope))

        def fresh(state: search.State, key: tuple[int, str, int]) -> bool:
            return (tuple(sorted((*outside, *search.values(state)))), key) not in self.played

        return fresh

    def items(self, numbers: tuple[int, ...]) -> search.State:
        """The given numbers' leaves on the table (each item once)."""
        chosen: list[Expr] = []
        for number in numbers:
            item = next(e for e in self.table if e.value == number and not any(e is c for c in chosen)
                        and e.op == "n")
            chosen.append(item)
        return tuple(chosen)

    def play(self, step: search.Step) -> Expr:
        """Narrate one move on the whole table; `step` refers to items of the table by identity."""
        i = next(k for k, e in enumerate(self.table) if e is step.left)
        j = next(k for k, e in enumerate(self.table) if e is step.right and k != i)
        self.played.add((tuple(sorted(search.values(self.table))), search.step_key(step)))
        self.table = (*(e for k, e in enumerate(self.table) if k not in (i, j)), step.result)
        first = not any(isinstance(s, Move) for s in self.steps)
        left, right, result = int(step.left.value), int(step.right.value), int(step.result.value)
        self.steps.append(Move("move", left, step.op, right, result, search.values(self.table), first))  # type: ignore[arg-type]
        return step.result

    def check(self, value: int, goal: int) -> None:
        """A verification step, where the condition shows verification."""
        if self.shape.verification:
            self.steps.append(Check("check", value, goal, goal == self.problem.target))

    def back_to(self, table: search.State, *, dropped: int | None = None) -> None:
        """Return to an earlier table (setting a plan's value aside if `dropped`)."""
        self.table = table
        at_start = table == search.start(self.problem.nums)
        step = Backtrack("backtrack", search.values(table), at_start, dropped, self.shape.verification)
        self.steps.append(step)

    def branch(self, scope: search.State, goal: int, *, full: bool, any_first: bool = False,
               first_uses: Expr | None = None) -> list[search.Step]:
        """Play one branch inside `scope` that cannot make `goal`; the caller decides what follows it."""
        full = full or self.shape.verification
        path = search.dead_end(scope, goal, self.rng, full_depth=full, fresh=self.fresh_in(scope),
                               first_uses=first_uses, any_first=any_first)
        if path is None:
            raise NoTrace(f"no untried dead end toward {goal} from {search.values(scope)}")
        for step in path:
            self.play(step)
        if len(path[-1].after) == 1:
            self.check(int(path[-1].result.value), goal)
        return path


def plan(problem: Problem, shape: Shape, rng: random.Random) -> Plan:
    """Run the search for `problem` and lay out the steps that `shape` asks to show."""
    chosen = _choose_layout(problem, shape, rng)
    kind = chosen.failed_kind if shape.backtracking else None
    if chosen.min_failed > (shape.backtracks if kind else 0):
        raise NoTrace("no plan of the requested kind fits; showing one needs a dead end to drop it in")
    share = sum(rng.random() < FAILED_PLAN_SHARE for _ in range(shape.backtracks)) if kind else 0
    state = rng.getstate()
    error = NoTrace("no layout")
    # Where dead ends are scarce (few numbers in a plan's pool), more of them become dropped plans.
    most = shape.backtracks if kind else 0
    first = max(share, chosen.min_failed)
    for failed in [*range(first, most + 1), *range(first - 1, chosen.min_failed - 1, -1)]:
        rng.setstate(state)
        try:
            return _lay_out(_Trace(problem, shape, rng), chosen, failed)
        except NoTrace as err:
            error = err
    raise error


def _lay_out(trace: _Trace, chosen: _Layout, failed: int) -> Plan:
    problem, shape = trace.problem, trace.shape
    used = {chosen.subgoal.value} if chosen.subgoal else {s.needed for s in chosen.chain}
    for _ in range(failed):
        used.add(_failed_plan(trace, chosen.failed_kind, used))  # type: ignore[arg-type]
    if chosen.subgoal is not None:
        trace.steps.append(chosen.subgoal)
    trace.steps += chosen.chain
    dead_ends = shape.backtracks - failed
    if shape.incorrect:
        final = _search_incorrect(trace, chosen, dead_ends)
    else:
        final = _search_correct(trace, chosen, dead_ends)
    value = int(final.value)
    trace.check(value, problem.target)
    trace.steps.append(Conclude("conclude", final.text, value, problem.target, shape.incorrect, shape.verification))
    return Plan(tuple(trace.steps), final.text, value)


def _choose_layout(problem: Problem, shape: Shape, rng: random.Random) -> _Layout:
    nums, target = problem.nums, problem.target
    if shape.backward_chaining:
        chain = _pick_chain(nums, target, shape, rng, subgoal=shape.subgoal_setting)
        if chain is not None and shape.subgoal_setting:  # the chain ends on a value named for its property
            last = chain[-1]
            goal = Subgoal("subgoal", last.needed, target, layout.property_of(last.needed, target), last.pool)  # type: ignore[arg-type]
            return _Layout(goal, chain, "subgoal")
        if chain is None and shape.subgoal_setting:  # a plain chain; the subgoal is named, tried and dropped
            chain = _pick_chain(nums, target, shape, rng, subgoal=False)
            if chain is not None:
                return _Layout(None, chain, "subgoal", min_failed=1)
        if chain is None:
            raise NoTrace(f"no backward chain of {shape.backward_depth} step(s) over given numbers")
        return _Layout(None, chain, "backward")
    if shape.subgoal_setting:
        options = [o for o in layout.subgoal_options(nums, target)
                   if shape.incorrect or layout.continues(o.rest, o.subgoal.value, target)]
        if not options:  # no value with a property the numbers can build and use: name one, try it, drop it
            return _Layout(None, (), "subgoal", min_failed=1)
        return _Layout(rng.choice(options).subgoal, (), "subgoal")
    return _Layout(None, (), None)


def _pick_chain(nums: tuple[int, ...], target: int, shape: Shape, rng: random.Random, *,
                subgoal: bool) -> tuple[BackwardStep, ...] | None:
    deepest = min(shape.backward_depth, len(nums) - 2)
    depths = [shape.backward_depth] if shape.backward_exact else range(deepest, 0, -1)
    for depth in depths:
        options = _chains(nums, target, depth, subgoal=subgoal, reachable=not shape.incorrect)
        if options:
            return rng.choice(options)
    return None


def _chains(nums: tuple[int, ...], target: int, depth: int, *, subgoal: bool,
            reachable: bool) -> list[tuple[BackwardStep, ...]]:
    """Backward chains whose last pool can (or, for incorrect mode, preferably cannot) make its value; with
    `subgoal`, that value must also be a factor, multiple or near value of the target."""
    chains = [c for c in layout.backward_chains(nums, target, depth)
              if not subgoal or layout.property_of(c[-1].needed, target) is not None]
    sound = [c for c in chains if layout.makes(c[-1].pool, c[-1].needed)]
    if reachable:
        return sound
    # Incorrect mode: the search must be able to settle, i.e. finish the chain from some value the pool makes.
    # A plan worth trying names a value its pool could plausibly make: no more than the pool's largest value.
    settles = [c for c in chains if (made := layout.reachable_values(c[-1].pool)) and c[-1].needed <= made[-1]
               and any(_chain_value(c, v) not in (None, target) for v in made)]
    return [c for c in settles if c not in sound] or [c for c in settles if c in sound]


def _failed_plan(trace: _Trace, kind: str, used: set[int]) -> int:
    """Name a plan whose value its numbers cannot make, try it, and drop it; returns the value."""
    nums, target = trace.problem.nums, trace.problem.target
    announce: Subgoal | BackwardStep
    if kind == "subgoal":
        options = [o.subgoal for o in layout.subgoal_options(nums, target, reachable_only=False)]
        options = [o for o in options if o.value not in used]
    else:
        options = [c[0] for c in layout.backward_chains(nums, target, 1)
                   if c[0].needed not in used and not layout.makes(c[0].pool, c[0].needed)]
    if not options:
        raise NoTrace(f"no {kind} plan that fails to name")
    announce = trace.rng.choice(options)
    value = announce.value if isinstance(announce, Subgoal) else announce.needed
    start = trace.table
    trace.steps.append(announce)
    trace.branch(trace.items(announce.pool), value, full=trace.rng.random() < 0.5, any_first=True)
    trace.back_to(start, dropped=value)
    return value


def _spread(count: int, phases: int, rng: random.Random) -> list[int]:
    counts = [0] * phases
    for _ in range(count):
        counts[rng.randrange(phases)] += 1
    return counts


def _search_correct(trace: _Trace, chosen: _Layout, dead_ends: int) -> Expr:
    target = trace.problem.target
    if chosen.chain:  # one phase inside the chain's pool, then the chain finished forward
        last = chosen.chain[-1]
        reached = _phase(trace, trace.items(last.pool), last.needed, dead_ends)
        return _finish_chain(trace, chosen.chain, reached)
    if chosen.subgoal is not None:  # build the subgoal, then go on from it to the target
        first, second = _spread(dead_ends, 2, trace.rng)
        reached = _phase(trace, trace.items(chosen.subgoal.pool), chosen.subgoal.value, first)
        rest = tuple(e for e in trace.table if e is not reached)
        return _phase(trace, (*rest, reached), target, second, first_uses=reached)
    return _phase(trace, trace.table, target, dead_ends)


def _phase(trace: _Trace, scope: search.State, goal: int, dead_ends: int, *, first_uses: Expr | None = None) -> Expr:
    """Make `goal` from `scope`, with `dead_ends` abandoned branches at states along the way."""
    rng = trace.rng
    path = search.path_to(scope, goal, rng, first_uses=first_uses, fresh=trace.fresh_in(scope))
    if path is None:
        raise NoTrace(f"no fresh path to {goal} from {search.values(scope)}")
    positions = [0 if rng.random() < 0.5 else rng.randrange(len(path)) for _ in range(dead_ends)]
    for k, step in enumerate(path):
        for _ in range(positions.count(k)):
            base = trace.table
            trace.branch(step.before, goal, full=rng.random() < 0.5, first_uses=first_uses if k == 0 else None)
            trace.back_to(base)
        trace.play(step)
    reached = path[-1].result
    if goal != trace.problem.target:
        trace.check(int(reached.value), goal)
    return reached


def _finish_chain(trace: _Trace, chain: tuple[BackwardStep, ...], reached: Expr) -> Expr:
    """Carry out the backward chain's planned last moves, innermost first."""
    for link in reversed(chain):
        if int(reached.value) != link.needed:  # incorrect mode: this level's plan is given up in so many words
            trace.steps.append(Settle("settle", link.needed, int(reached.value)))
        partner = trace.items((link.partner,))[0]
        left, right = (partner, reached) if link.partner_first else (reached, partner)
        if layout.legal(int(left.value), link.op, int(right.value)) is None:
            raise NoTrace(f"{left.value} {link.op} {right.value} is not a move a trace shows")
        before = trace.table
        result = combine(link.op, left, right)
        after = (*(e for e in before if e is not left and e is not right), result)
        reached = trace.play(search.Step(left, link.op, right, result, before, after))
        if link is not chain[0]:
            trace.check(int(reached.value), link.goal)
    return reached


def _search_incorrect(trace: _Trace, chosen: _Layout, dead_ends: int) -> Expr:
    """Every branch fails; the search stops after `dead_ends` + 1 attempts on the best one it reached."""
    target = trace.problem.target
    if chosen.chain:
        last = chosen.chain[-1]
        scope, goal = trace.items(last.pool), last.needed
        complete = lambda value: _chain_value(chosen.chain, value)  # noqa: E731
        first_uses = None
    else:
        if chosen.subgoal is not None:
            reached = _phase(trace, trace.items(chosen.subgoal.pool), chosen.subgoal.value, 0)
            scope, first_uses = (*(e for e in trace.table if e is not reached), reached), reached
        else:
            scope, first_uses = trace.table, None
        goal, complete = target, lambda value: value  # noqa: E731
    branches = _attempts(trace, scope, goal, dead_ends + 1, complete, first_uses)
    start = trace.table
    for path in branches[:-1]:
        for step in path:
            trace.play(step)
        trace.check(int(path[-1].result.value), goal)
        trace.back_to(start)
    for step in branches[-1]:
        trace.play(step)
    reached = branches[-1][-1].result
    trace.check(int(reached.value), goal)
    return _finish_chain(trace, chosen.chain, reached) if chosen.chain else reached


def _attempts(trace: _Trace, scope: search.State, goal: int, count: int, complete, first_uses: Expr | None
              ) -> list[list[search.Step]]:  # type: ignore[no-untyped-def]
    """`count` distinct full-depth failing branches, the one whose completion lands nearest the target last."""
    target, found = trace.problem.target, []
    shown = trace.fresh_in(scope)
    chosen: set[tuple[tuple[int, ...], tuple[int, str, int]]] = set()  # attempts are played later, in order

    def fresh(state: search.State, key: tuple[int, str, int]) -> bool:
        return shown(state, key) and (tuple(sorted(search.values(state))), key) not in chosen

    for _ in range(count * 3):
        path = search.dead_end(scope, goal, trace.rng, full_depth=True, fresh=fresh, first_uses=first_uses,
                               any_first=not layout.makes(search.values(scope), goal))
        if path is None:
            break
        chosen.update((tuple(sorted(search.values(step.before))), search.step_key(step)) for step in path)
        value = complete(int(path[-1].result.value))
        if value is not None and value != target:
            found.append((abs(value - target), len(found), path))
        if len(found) == count:
            break
    if len(found) < count:
        raise NoTrace(f"fewer than {count} failing attempts toward {goal}")
    best = min(found)
    ordered = [entry for entry in found if entry is not best] + [best]
    return [path for _, _, path in ordered]


def _chain_value(chain: tuple[BackwardStep, ...], value: int) -> int | None:
    """What finishing the chain's planned moves from `value` gives, or None if a move is not shown."""
    for link in reversed(chain):
        left, right = (link.partner, value) if link.partner_first else (value, link.partner)
        result = layout.legal(left, link.op, right)
        if result is None:
            return None
        value = result
    return value
