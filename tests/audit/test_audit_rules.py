"""The auditor on hand-written traces in our layout (problem line, steps, conclusion line): each property of
issue 9 both ways, a sound trace that passes and an unsound one that is flagged for the right reason."""

from __future__ import annotations

import random

import pytest

from cogbeh.audit import audit_plan, audit_record, audit_text
from cogbeh.countdown import Problem
from cogbeh.records import Record, zero_counts
from cogbeh.traces import Shape, synthesize


def trace(*lines: str, answer: str) -> str:
    return "<think>\n" + "\n".join(lines) + "\n</think>\n<answer>" + answer + "</answer>"


def problems(text: str, nums: tuple[int, ...], target: int, **kwargs: object) -> list[str]:
    kwargs.setdefault("incorrect", False)
    return [f.problem for f in audit_text(text, nums, target, strict=True, **kwargs)]  # type: ignore[arg-type]


INTRO = "We have 3, 2 and 4 and want to make 24."
SOUND_BACKWARD = trace(
    INTRO,
    "Working backwards from 24: 24 / 4 = 6, so 3 and 2 must make 6. 3 + 2 = 5, leaving 4 and 5. "
    "Back to 3, 2 and 4.",
    "3 * 2 = 6, leaving 4 and 6. Finally, 6 * 4 = 24.",
    "So the expression is 3 * 2 * 4.",
    answer="3 * 2 * 4",
)

CASES: dict[str, tuple[str, tuple[int, ...], int, str | None]] = {
    # name: (completion, nums, target, expected problem substring or None for a sound trace)
    "sound backward chain with a dead end inside the plan": (SOUND_BACKWARD, (3, 2, 4), 24, None),
    "narrated table is wrong": (
        trace(INTRO, "3 * 2 = 6, leaving 4 and 7. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "narrates [4, 7]",
    ),
    "operand not on the table": (
        trace(INTRO, "3 * 8 = 24.", "So the answer is 3 * 8.", answer="3 * 8"), (3, 2, 4), 24, "uses 3 and 8",
    ),
    "false arithmetic": (
        trace(INTRO, "3 * 2 = 7, leaving 4 and 7.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "is false",
    ),
    "last step claimed with three numbers on the table": (
        trace(INTRO, "Finally, 3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.",
              answer="3 * 2 * 4"),
        (3, 2, 4), 24, "last step with 3 numbers",
    ),
    "first move opens with a connective": (
        trace(INTRO, "Next, 3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.",
              answer="3 * 2 * 4"),
        (3, 2, 4), 24, "connective",
    ),
    "a backward plan ignored by the next move": (
        trace(INTRO, "Working backwards from 24: 24 / 4 = 6, so 3 and 2 must make 6. 4 * 3 = 12, leaving 2 and 12. "
              "12 * 2 = 24.", "So the answer is 4 * 3 * 2.", answer="4 * 3 * 2"),
        (3, 2, 4), 24, "leaves the live plan for 6",
    ),
    "a subgoal reached but not used next": (
        trace("We have 3, 2, 4 and 5 and want to make 29.",
              "Let's first try to reach 6 from 3 and 2, since 6 is close to 5. 3 * 2 = 6, leaving 4, 5 and 6. "
              "5 * 4 = 20, leaving 6 and 20. 20 + 6 = 26.", "So the answer is 5 * 4 + 3 * 2.", answer="5 * 4 + 3 * 2"),
        (3, 2, 4, 5), 29, "not use it",
    ),
    "a subgoal whose property is false": (
        trace(INTRO, "Let's first try to reach 7 from 3 and 4, since 7 is a factor of 24. 3 + 4 = 7, leaving 2 and 7. "
              "7 * 2 = 14.", "So the answer is (3 + 4) * 2.", answer="(3 + 4) * 2"),
        (3, 2, 4), 24, "is not factor to 24",
    ),
    "a plan never reached or dropped": (
        trace(INTRO, "Working backwards from 24: 24 / 4 = 6, so 3 and 2 must make 6. 3 + 2 = 5, leaving 4 and 5.",
              "So the answer is (3 + 2) * 4.", answer="(3 + 2) * 4"),
        (3, 2, 4), 24, "never reached or dropped",
    ),
    "a plan dropped in words, then the search goes on": (
        trace("We have 10, 4 and 1 and want to make 14.",
              "Let's first try to reach 15 from 10 and 4, since 15 is close to 14. 10 + 4 = 14, leaving 1 and 14. "
              "I'll drop 15 for now; back to the start: 10, 4 and 1.",
              "4 * 1 = 4, leaving 10 and 4. 4 + 10 = 14.", "So the answer is 10 + 4 * 1.", answer="10 + 4 * 1"),
        (10, 4, 1), 14, None,
    ),
    "a plan dropped after its numbers made something else": (
        trace(INTRO, "Let's first try to reach 6 from 3 and 2, since 6 is a factor of 24. 3 + 2 = 5, leaving 4 and 5. "
              "Let me set 6 aside; back to the start: 3, 2 and 4.",
              "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, None,  # 5 and 4 cannot make 6 (5 is made): the drop is honest
    ),
    "a plan dropped while its numbers can still make it": (
        trace(INTRO, "Let's first try to reach 6 from 3 and 2, since 6 is a factor of 24. "
              "Let me set 6 aside; back to the start: 3, 2 and 4.",
              "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "drops 6 although [2, 3] can still make it",
    ),
    "a state abandoned while the target is still reachable": (
        trace("We have 3, 2 and 4 and want to make 20.", "3 + 2 = 5, leaving 4 and 5. Back to 3, 2 and 4.",
              "2 + 3 = 5, leaving 4 and 5. 5 * 4 = 20.", "So the answer is (3 + 2) * 4.", answer="(3 + 2) * 4"),
        (3, 2, 4), 20, "although 20 can still be made",
    ),
    "the same move tried twice from the same table": (
        trace(INTRO, "3 + 2 = 5, leaving 4 and 5. Back to 3, 2 and 4.", "2 + 3 = 5, leaving 4 and 5. Back to 3, 2 and 4.",
              "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "already tried",
    ),
    "a return to a table never seen": (
        trace(INTRO, "3 + 2 = 5, leaving 4 and 5. Back to 3, 6 and 4.",
              "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "not an earlier table",
    ),
    "a check of a value that was not just produced": (
        trace(INTRO, "3 * 2 = 6, leaving 4 and 6. Check: 5 ≠ 24. 6 * 4 = 24. Check: 24 = 24. ✓",
              "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "checks 5",
    ),
    "a check against the target while a plan is live": (
        trace(INTRO, "Working backwards from 24: 24 / 4 = 6, so 3 and 2 must make 6. 3 + 2 = 5, leaving 4 and 5. "
              "Check: 5 ≠ 24. Back to 3, 2 and 4.", "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.",
              "So the answer is 3 * 2 * 4.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "live goal is 6",
    ),
    "a false gap": (
        trace(INTRO, "3 + 2 = 5, leaving 4 and 5. 5 * 4 = 20. 20 falls 3 short of 24.", "So the answer is (3 + 2) * 4.",
              answer="(3 + 2) * 4"),
        (3, 2, 4), 24, "comparison of 20 with 24 is false",
    ),
    "a conclusion that is not the answer": (
        trace(INTRO, "3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 4 * 6.", answer="3 * 2 * 4"),
        (3, 2, 4), 24, "does not state the answer",
    ),
    "an unreadable sentence with numbers": (
        trace(INTRO, "Maybe 3 and 2 somehow. 3 * 2 = 6, leaving 4 and 6. 6 * 4 = 24.", "So the answer is 3 * 2 * 4.",
              answer="3 * 2 * 4"),
        (3, 2, 4), 24, "no readable",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_property_both_ways(name: str) -> None:
    completion, nums, target, expected = CASES[name]
    found = problems(completion, nums, target)
    if expected is None:
        assert found == []
    else:
        assert any(expected in problem for problem in found), found


def test_incorrect_mode_must_settle_on_the_best_value_reached() -> None:
    worse_last = trace(
        "We have 3, 2 and 4 and want to make 25.", "3 + 2 = 5, leaving 4 and 5. 5 * 4 = 20. Back to 3, 2 and 4.",
        "4 - 3 = 1, leaving 2 and 1. 2 - 1 = 1.", "I'll stop here and answer 2 - (4 - 3).", answer="2 - (4 - 3)",
    )
    assert any("settles for 1" in p for p in problems(worse_last, (3, 2, 4), 25, incorrect=True))
    honest = trace(
        "We have 3, 2 and 4 and want to make 25.", "4 - 3 = 1, leaving 2 and 1. 2 - 1 = 1. Back to 3, 2 and 4.",
        "3 + 2 = 5, leaving 4 and 5. 5 * 4 = 20.", "I'll stop here and answer (3 + 2) * 4.", answer="(3 + 2) * 4",
    )
    assert problems(honest, (3, 2, 4), 25, incorrect=True) == []
    assert any("return(s)" in p for p in problems(honest, (3, 2, 4), 25, incorrect=True, min_backtracks=2))


def test_text_is_held_to_the_steps_it_was_rendered_from() -> None:
    problem = Problem((25, 30, 3, 4), 32)
    shape = Shape(True, True, False, False, backtracks=2)
    rendered = synthesize(problem, shape, random.Random(3))
    assert audit_plan(rendered.steps, rendered.text, problem.nums, problem.target, incorrect=False,
                      min_backtracks=2) == []
    # The same text against the steps of another trace: the sentences no longer say those steps.
    other = synthesize(problem, shape, random.Random(4))
    assert other.steps != rendered.steps
    assert any("the text reads as" in f.problem for f in audit_plan(other.steps, rendered.text, problem.nums,
                                                                   problem.target, incorrect=False, min_backtracks=2))


def _record(completion: str, control: str | None) -> Record:
    return Record(id="r", condition="all", behaviors=[], nums=[3, 2, 4], target=24, prompt="p", completion=completion,
                  answer="3 * 2 * 4", correct=True, behavior_counts=zero_counts(), provider="symbolic", model=None,
                  seed=0, index=0, problem_id="2-3-4_24", control=control)


def test_controls_are_held_to_what_they_claim() -> None:
    tail = "\n</think>\n<answer>3 * 2 * 4</answer>"
    assert audit_record(_record("<think>\n" + tail, "empty_cot")) == []
    assert audit_record(_record("<think>\n3 * 2 = 6." + tail, "empty_cot"))
    assert audit_record(_record("<think>\n . . . ." + tail, "length_matched")) == []
    assert audit_record(_record("<think>\n . . x ." + tail, "length_matched"))
    shuffled = "<think>\nWe have 3, 2 and 4 and want to make 24.\n6 * 4 = 24. 3 * 2 = 6.\nSo 3 * 2 * 4." + tail
    assert audit_record(_record(shuffled, "shuffled_steps")) == []  # order is what this control breaks
    assert audit_record(_record(shuffled.replace("6 * 4 = 24", "6 * 4 = 25"), "shuffled_steps"))
    assert audit_record(_record(SOUND_BACKWARD, None)) == []
