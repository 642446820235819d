"""Replay what a trace says over the numbers really on the table; every contradiction is a finding.

Properties (issue 9): narrated tables are the true multiset; every operand is on the table; a plan names its
value and numbers, and until it resolves moves stay inside those numbers; it resolves by reaching its value
(the next move then uses it) or by an explicit drop; a branch is abandoned only when its goal is out of reach;
no move is made twice from the same table; a check compares the value just produced with the live goal and
states a true relation; an incorrect trace ends on the best complete value it reached.

`strict` is for our own traces: every sentence with a number must be read, and the layout (problem first,
conclusion last) is known. Otherwise (an LLM's text) unreadable sentences are skipped, and a move whose
operands are not on the table but were on an earlier one counts as an unnarrated return.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass

from cogbeh.audit.parse import Said
from cogbeh.countdown import evaluate
from cogbeh.countdown.rules import apply
from cogbeh.traces.layout import RULES, close_to, reaches


@dataclass(frozen=True)
class Finding:
    """One contradiction: where it is and what is wrong."""

    sentence: int
    problem: str
    text: str

    def __str__(self) -> str:
        quoted = self.text if len(self.text) <= 120 else self.text[:117] + "..."
        return f"sentence {self.sentence + 1}: {self.problem} ({quoted!r})"


@dataclass
class LivePlan:
    """A plan not yet resolved: its value, the numbers (and values made from them) it may use."""

    kind: str
    value: int
    scope: list[int]
    since: int  # history index at announcement: returns inside the plan go no further back


def _contains(pool: list[int] | tuple[int, ...], part: list[int] | tuple[int, ...]) -> bool:
    return not Counter(part) - Counter(pool)


def _remove(pool: list[int], part: tuple[int, ...]) -> list[int]:
    left = list(pool)
    for value in part:
        left.remove(value)
    return left


def _arithmetic(a: int, op: str, b: int) -> int | None:
    # Whole-number steps, under the rules the traces' search takes them by.
    return apply(op, a, b, RULES)  # type: ignore[arg-type,return-value]


#: Claims read only in our own traces: plans, drops and settlements follow our layout's conventions.
_STRICT_ONLY = frozenset({"subgoal", "backward", "drop", "settle"})


class Replay:
    """Walk the claims of one trace in order, keeping the true table and the live plans."""

    def __init__(self, nums: tuple[int, ...], target: int, *, strict: bool, incorrect: bool | None,
                 reasons: bool = True) -> None:
        self.nums, self.target, self.strict, self.incorrect = tuple(nums), target, strict, incorrect
        self.reasons = reasons  # False when the text's plans were stripped (cue_stripped): no "why" to check
        self.table: list[int] = list(nums)
        self.plans: list[LivePlan] = []
        self.history: list[tuple[list[int], list[LivePlan]]] = [(sorted(nums), [])]
        self.played: set[tuple[tuple[int, ...], tuple[int, str, int]]] = set()
        self.last_result: int | None = None
        self.just_reached: int | None = None
        self.expect_use: int | None = None
        self.complete: list[int] = []
        self.after_drop = False
        self.moved = False
        self.backtracks = 0
        self.concluded = False
        self.findings: list[Finding] = []
        self._claims: list[Said] = []
        self._position = 0

    def flag(self, said: Said, problem: str) -> None:
        """Record a contradiction."""
        self.findings.append(Finding(said.sentence, problem, said.text))

    def _remember(self) -> None:
        self.history.append((sorted(self.table), copy.deepcopy(self.plans)))

    def live_goal(self) -> int:
        """What a check must compare with now."""
        if self.just_reached is not None:
            return self.just_reached
        return self.plans[-1].value if self.plans else self.target

    def scope_of(self, goal: int) -> list[int] | None:
        """The numbers that serve `goal`: a live plan's, or the whole table for the target."""
        for plan in reversed(self.plans):
            if plan.value == goal:
                return plan.scope
        return list(self.table) if goal == self.target else None

    def run(self, claims: list[Said], *, answer: str | None = None) -> list[Finding]:
        """Replay every claim; returns the findings."""
        self._claims = claims
        for position, said in enumerate(claims):
            self._position = position
            if not self.strict and said.kind in _STRICT_ONLY:
                continue  # an LLM's remarks ("22 is close to 24") are not plans it can be held to
            if said.kind == "conclude":
                self._on_conclude(said, answer)
            else:
                getattr(self, f"_on_{said.kind}")(said)  # one handler per claim kind (parse.Said.kind)
        if self.strict and not self.concluded:
            self.findings.append(Finding(len(claims), "the trace never concludes", ""))
        return self.findings

    def _on_intro(self, said: Said) -> None:
        stated = Counter(said.values or ())
        if stated != Counter((*self.nums, self.target)):
            self.flag(said, f"the problem statement names {sorted(stated.elements())}, not {list(self.nums)} "
                            f"and {self.target}")

    def _on_other(self, said: Said) -> None:
        if self.strict and said.values:
            self.flag(said, "a sentence with numbers that states no readable move, table, plan or check")

    def _on_move(self, said: Said) -> None:
        a, op, b, c = said.equation  # type: ignore[misc]
        if _arithmetic(a, op, b) != c:
            self.flag(said, f"{a} {op} {b} = {c} is false")
            return
        if not _contains(self.table, (a, b)) and not self._implicit_return(said, (a, b)):
            return
        self._check_plan_scope(said, a, b)
        if self.expect_use is not None and self.expect_use not in (a, b):
            self.flag(said, f"{self.expect_use} was reached as planned, but the next move does not use it")
        self.expect_use = None
        key = (tuple(sorted(self.table)), (max(a, b), op, min(a, b)) if op in "+*" else (a, op, b))
        if key in self.played and self.strict:
            self.flag(said, f"{a} {op} {b} was already tried from {sorted(self.table)}")
        self.played.add(key)
        if "last" in said.claims and len(self.table) != 2 and self.strict:
            self.flag(said, f"speaks of the last step with {len(self.table)} numbers on the table")
        if "opener" in said.claims and not self.moved and self.strict:
            self.flag(said, "the first move opens with a connective ('Next', 'Then')")
        self._apply(a, b, c)

    def _implicit_return(self, said: Said, operands: tuple[int, int]) -> bool:
        if self.strict:
            self.flag(said, f"uses {operands[0]} and {operands[1]}, but the table holds {sorted(self.table)}")
            return False
        # The text does not say which earlier table it went back to: take the one from which the most of the
        # following moves can be replayed (ties: the latest).
        options = [(table, plans) for table, plans in reversed(self.history) if _contains(table, operands)]
        if not options:
            self.flag(said, f"uses {operands[0]} and {operands[1]}, which were never on the table together")
            return False
        table, plans = max(options, key=lambda option: self._replayable(option[0]))
        self.table, self.plans = list(table), copy.deepcopy(plans)
        return True

    def _replayable(self, table: list[int]) -> int:
        """How many of the moves from the current one on can be played in a row from `table`."""
        played, held = 0, list(table)
        for said in self._claims[self._position:]:
            if said.kind != "move":
                continue
            a, _, b, c = said.equation  # type: ignore[misc]
            if not _contains(held, (a, b)):
                break
            held, played = _remove(held, (a, b)) + [c], played + 1
        return played

    def _check_plan_scope(self, said: Said, a: int, b: int) -> None:
        if self.plans and not _contains(self.plans[-1].scope, (a, b)):
            plan = self.plans[-1]
            self.flag(said, f"the move leaves the live plan for {plan.value}, which uses {sorted(plan.scope)}")

    def _apply(self, a: int, b: int, c: int) -> None:
        self.table = _remove(self.table, (a, b)) + [c]
        for plan in self.plans:
            if _contains(plan.scope, (a, b)):
                plan.scope = _remove(plan.scope, (a, b)) + [c]
        # Every plan whose numbers now make exactly its value is reached (a subgoal and the backward chain
        # that ends on it are reached by the same move).
        reached = [p for p in self.plans if p.scope == [p.value]]
        self.plans = [p for p in self.plans if p not in reached]
        self.just_reached = c if reached else None
        if self.just_reached is not None and len(self.table) > 1:
            self.expect_use = self.just_reached
        self.last_result, self.moved, self.after_drop = c, True, False
        if len(self.table) == 1:
            self.complete.append(c)
        self._remember()

    def _on_state(self, said: Said) -> None:
        narrated = sorted(said.values or ())
        if not self.strict and self.last_result is not None and narrated == sorted(_remove(self.table, (self.last_result,))):
            return  # "25 - 3 = 22, leaving 4 and 6": an LLM may list only the numbers not yet used
        if narrated != sorted(self.table):
            self.flag(said, f"narrates {list(said.values or ())}, but the table holds {sorted(self.table)}")

    def _on_return(self, said: Said) -> None:
        wanted = sorted(said.values or ())
        if not self.after_drop and self.reasons and self.strict:  # why a branch ended: our search knows, an LLM may not
            goal = self.plans[-1].value if self.plans else self.target
            scope = self.plans[-1].scope if self.plans else self.table
            if reaches(scope, goal):
                self.flag(said, f"abandons {sorted(scope)} although {goal} can still be made from it")
        if "start" in said.claims and wanted != sorted(self.nums):
            self.flag(said, f"calls {wanted} the start, but the problem starts from {sorted(self.nums)}")
        since = self.plans[-1].since if self.plans else 0
        found = [i for i in range(since, len(self.history)) if self.history[i][0] == wanted]
        if not found:
            self.flag(said, f"returns to {wanted}, which is not an earlier table" + (" of the live plan" if since else ""))
            return
        # The table comes back as it was; of the plans live then, only those still live now (not dropped).
        live = {(p.kind, p.value, p.since) for p in self.plans}
        restored = [p for p in copy.deepcopy(self.history[found[-1]][1]) if (p.kind, p.value, p.since) in live]
        self.table, self.plans = list(said.values or ()), restored
        self.backtracks += 1
        self.last_result, self.just_reached, self.expect_use, self.after_drop = None, None, None, False
        self._remember()

    def _pop_plan(self, said: Said, value: int, verb: str) -> LivePlan | None:
        index = next((i for i in range(len(self.plans) - 1, -1, -1) if self.plans[i].value == value), None)
        if index is None:
            self.flag(said, f"{verb} {value}, which is not a live plan")
            return None
        plan = self.plans[index]
        del self.plans[index:]
        # A subgoal and the backward chain that ends on it are one plan for the same numbers: both go.
        self.plans = [p for p in self.plans if not (p.value == value and sorted(p.scope) == sorted(plan.scope))]
        return plan

    def _on_drop(self, said: Said) -> None:
        plan = self._pop_plan(said, said.value, "drops")  # type: ignore[arg-type]
        if plan is not None and reaches(plan.scope, plan.value):
            self.flag(said, f"drops {plan.value} although {sorted(plan.scope)} can still make it")
        self.after_drop = True
        self.just_reached = None

    def _on_settle(self, said: Said) -> None:
        if self.incorrect is False:
            self.flag(said, "settles for a value in a trace that is meant to be correct")
        if said.value != self.last_result:
            self.flag(said, f"carries on with {said.value}, but the value just made is {self.last_result}")
        plan = self._pop_plan(said, said.goal, "gives up")  # type: ignore[arg-type]
        if plan is not None and plan.scope != [said.value]:
            self.flag(said, f"settles for {said.value} while the plan's numbers are {sorted(plan.scope)}")
        self.expect_use = said.value if len(self.table) > 1 else None

    def _on_backward(self, said: Said) -> None:
        a, op, b, c = said.equation  # type: ignore[misc]
        needed, pool = said.value, tuple(said.values or ())
        if _arithmetic(a, op, b) != c:
            self.flag(said, f"{a} {op} {b} = {c} is false")
            return
        goals = [*(p.value for p in reversed(self.plans)), self.target]  # the innermost goal first
        if c == needed:  # the inverse: goal op partner = needed (or partner op goal)
            pairs = sorted(((g, p) for g, p in ((a, b), (b, a)) if g in goals), key=lambda gp: goals.index(gp[0]))
        else:  # the planned last move: needed op partner = goal
            pairs = [(c, b if a == needed else a)] if c in goals and needed in (a, b) else []
        if not pairs:
            self.flag(said, f"works back from none of the live goals {sorted(set(goals))}")
            return
        # A reading that fits the numbers wins ("20 / 5 = 4" with a live subgoal of 5 still starts from 20).
        fitting = [(g, p) for g, p in pairs if sorted((*pool, p)) == sorted(self.scope_of(g) or [])]
        goal, partner = (fitting or pairs)[0]
        scope = self.scope_of(goal) or []
        if self.strict and sorted((*pool, partner)) != sorted(scope):
            self.flag(said, f"with {partner} set aside, the numbers for {goal} are {sorted(_remove(scope, (partner,)) if partner in scope else scope)}, not {sorted(pool)}")
        elif not _contains(self.table, (*pool, partner)):
            self.flag(said, f"needs {sorted(pool)} and {partner}, but the table holds {sorted(self.table)}")
        self._announce(LivePlan("backward", needed, list(pool), 0))  # type: ignore[arg-type]

    def _on_subgoal(self, said: Said) -> None:
        value, goal, relation, pool = said.value, said.goal, said.relation, tuple(said.values or ())
        if goal not in {self.target, *(p.value for p in self.plans)}:
            self.flag(said, f"names {value} for its relation to {goal}, which is no live goal")
        true = {
            "factor": 1 < value < goal and goal % value == 0,  # type: ignore[operator]
            "multiple": value > goal and value % goal == 0,  # type: ignore[operator]
            "close": close_to(value, goal),  # type: ignore[arg-type]
        }[relation]  # type: ignore[index]
        if not true:
            self.flag(said, f"{value} is not {relation} to {goal} as claimed")
        if len(pool) < 2:
            self.flag(said, f"names {value} without the numbers it is to be built from")
        elif not _contains(self.scope_of(goal) or self.table, pool):  # type: ignore[arg-type]
            self.flag(said, f"builds {value} from {sorted(pool)}, which are not all on the table for {goal}")
        self._announce(LivePlan("subgoal", value, list(pool), 0))  # type: ignore[arg-type]

    def _announce(self, plan: LivePlan) -> None:
        # The table at announcement is remembered with the plan live, so a return inside it restores the plan.
        plan.since = len(self.history)
        self.plans.append(plan)
        self._remember()

    def _on_check(self, said: Said) -> None:
        value = said.value if said.value is not None else self.last_result
        if self.strict and (self.last_result is None or value != self.last_result):
            self.flag(said, f"checks {value}, but the value just produced is {self.last_result}")
        goal, live = said.goal, self.live_goal()
        if goal != live and self.strict:
            self.flag(said, f"compares with {goal}, but the live goal is {live}")
        if "target" in said.claims and goal != self.target:
            self.flag(said, f"calls {goal} the target, which is {self.target}")
        v, g = value or 0, goal or 0
        holds = {"eq": v == g, "ne": v != g, "high": v > g, "low": v < g}[said.relation]  # type: ignore[index]
        if not holds or (said.gap is not None and said.gap != abs(v - g)):
            self.flag(said, f"the comparison of {v} with {g} is false")

    def _on_conclude(self, said: Said, answer: str | None) -> None:
        self.concluded = True
        for plan in self.plans:
            self.flag(said, f"the plan for {plan.value} is never reached or dropped")
        if len(self.table) != 1:
            self.flag(said, f"concludes with {sorted(self.table)} still on the table")
            return
        final = self.table[0]
        if answer is not None:
            if " ".join(answer.split()) not in " ".join(said.text.split()):
                self.flag(said, f"the conclusion does not state the answer {answer}")
            if evaluate(answer) != final:
                self.flag(said, f"the answer {answer} is not the {final} the moves reached")
        if self.incorrect is False and final != self.target:
            self.flag(said, f"ends on {final}, not the target {self.target}")
        best = min((abs(v - self.target) for v in self.complete), default=abs(final - self.target))
        if self.incorrect and abs(final - self.target) > best:
            self.flag(said, f"settles for {final} although a value {best} from {self.target} was reached")
