"""The rule classifier on hand-written traces in the styles LLMs write, on our own symbolic traces, and
properties that hold for any text (never raises, four keys, deterministic, linear in adversarial input)."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify import BehaviorClassifier, ClassifyError, RuleClassifier, count_behaviors, focus
from cogbeh.countdown import sample_problems
from cogbeh.traces import NoTrace, Shape, synthesize

V, B, S, W = "verification", "backtracking", "subgoal_setting", "backward_chaining"

# (id, text, expected counts; every behavior not named must be 0)
CASES: list[tuple[str, str, dict[str, int]]] = [
    # --- neutral narration: zero of everything --------------------------------------------------------------
    (
        "neutral-brief",
        "Let me start with 25 and 30. 30 - 25 = 5. 5 + 3 = 8. 8 * 4 = 32. "
        "So the answer is (30 - 25 + 3) * 4.",
        {},
    ),
    ("neutral-try-next", "Let me try 5 * 4 = 20. Next, 20 + 3 = 23. Then 23 + 1 = 24. The answer is 24.", {}),
    ("neutral-use-all", "I need to use all numbers exactly once. 6 * 4 = 24, and 24 * (2 - 1) = 24.", {}),
    ("neutral-restate-target", "I need to make 18 from 3, 4 and 6. 3 * 4 = 12, and 12 + 6 = 18.", {}),
    ("neutral-answer-only", "The answer is 24.", {}),
    ("neutral-first-arith", "Let me think step by step. First, 18 + 9 = 27. Then 27 - 14 = 13.", {}),
    ("neutral-qwen-plan", "Let's try different combinations of the numbers. 3 + 5 = 8, 8 * 3 = 24.", {}),
    (
        "neutral-listing-options",
        "We could add, subtract, multiply, or try another operation such as division. "
        "Let's start: 5 + 3 = 8, then 8 * 3 = 24.",
        {},
    ),
    ("neutral-markdown", "- Step 1: 25 + 3 = 28\n- Step 2: 28 + 4 = 32\n\n**Answer:** 25 + 3 + 4", {}),
    ("neutral-unicode", "8 × 3 = 24, and 24 ÷ 1 = 24. Final answer: 8 × 3 ÷ 1.", {}),
    (
        "neutral-claude-prose",
        "Looking at these numbers, multiplication seems promising. 6 × 4 = 24, which "
        "leaves 2 and 1. Since 2 − 1 = 1, multiplying by it changes nothing: (6 × 4) × (2 − 1).",
        {},
    ),
    (
        "neutral-aim-for-target",
        "Target: 24. Let's aim for 24 with 3, 8 and 1. 3 * 8 = 24, times 1 is 24.",
        {},
    ),
    ("neutral-first-get-target", "Target: 24. First, we get 24 by multiplying 6 and 4: 6 * 4 = 24.", {}),
    (
        "neutral-restated-later",
        "Let me think. We need to get 24 using 3, 4, 6 and 8. 6 * 4 = 24, 8 - 3 - ...",
        {},
    ),
    ("neutral-check-if-can", "Let me check if I can use division here. 24 / 3 = 8, and 8 + 0 = 8.", {}),
    (
        "neutral-tinyzero-open",
        "We have 3, 5 and 6 and want to make 33. 5 * 6 = 30, 30 + 3 = 33.\n</think>\n"
        "<answer>5 * 6 + 3</answer>",
        {},
    ),
    ("empty", "", {}),
    # --- verification ---------------------------------------------------------------------------------------
    ("verify-neq", "Let me check: 14 ≠ 24.", {V: 1}),
    ("verify-too-high", "5 * 8 = 40. That's too high.", {V: 1}),
    ("verify-equals-correct", "3 * 8 = 24, this equals 24, correct.", {V: 1}),
    ("verify-check-mark", "Let me verify: 3*8 = 24 ✓", {V: 1}),
    ("verify-is-not", "(25 + 17) - 1 = 41. 41 is not 42.", {V: 1}),
    (
        "verify-three",
        "20 + 5 = 25, which is too high. 20 - 5 = 15, too low. 20 - 5 + 9 = 24. This works!",
        {V: 3},
    ),
    ("verify-paper-not-equal", "This sequence results in 1, which is not equal to 22.", {V: 1}),
    (
        "verify-double-check",
        "So the answer is (30 - 25 + 3) * 4. Let me double-check: 30 - 25 = 5, 5 + 3 = 8, "
        "8 * 4 = 32. Yes, that's correct.",
        {V: 1},
    ),
    ("verify-gpt-marks", "25+3=28 ✗\n25+4+3=32 ✓", {V: 2}),
    ("verify-unicode", "7 × 4 = 28, 28 − 4 = 24 ✔", {V: 1}),
    ("verify-target-hit", "(6 - 2) * 6 = 24, which is our target!", {V: 1}),
    ("verify-off-by", "9 * 3 = 27. Compared to the target of 24 that is off by 3.", {V: 1}),
    # --- backtracking ---------------------------------------------------------------------------------------
    ("back-brief-going-back", "25 * 3 = 75. Hmm, that doesn't work. Going back to the start…", {B: 1}),
    ("backward-which-needs", "Then 17 could come from 28 - 11 = 17, which needs 28 from 14 and 2.", {W: 1}),
    ("back-restart", "20 - 4 = 16, 20 + 16 = 36. I'll drop this attempt and restart with 20, 4 and 20.", {B: 1}),
    ("back-wrong-turn", "7 * 4 = 28. Wrong turn; returning to 4 and 7.", {B: 1}),
    ("back-two-restarts", "5 + 6 = 11. Let me restart. 5 * 6 = 30. Wrong turn, back to 5 and 6.", {B: 2}),
    ("back-dead-end", "30 + 25 = 55. That's a dead end, let me try something else.", {B: 1}),
    ("back-scrap", "25 + 30 = 55. Scrap that. 30 - 25 = 5, and 5 + 3 = 8.", {B: 1}),
    ("back-different-approach", "5 * 6 = 30. Let's try a different approach. 5 + 6 = 11.", {B: 1}),
    (
        "back-two-paths",
        "Try 25 * 3 = 75. That doesn't work. Try 25 - 3 = 22. That doesn't work either. Let me "
        "go back to 25, 3, 4 and 30 and try 30 - 25 = 5.",
        {B: 2},
    ),
    ("back-qwen-tries-only", "Let me try 5 * 4 = 20. Let me try 5 + 4 = 9. Let me try 5 - 4 = 1.", {}),
    ("back-start-over", "Start over. 6 * 4 = 24.", {B: 1}),
    (
        "back-three-dead-ends",
        "18 - 9 = 9. Dead end. Back to 18, 9 and 14.\n18 / 9 = 2. Dead end. Back to 18, 9 "
        "and 14.\n14 + 9 = 23. Dead end. Back to 18, 9 and 14.\n18 + 9 = 27, 27 - 14 = 13.",
        {B: 3},
    ),
    ("back-instead", "12 * 2 = 24 leaves the 5 unused. Let's use addition instead: 12 + 2 = 14.", {B: 1}),
    # --- subgoal setting ------------------------------------------------------------------------------------
    ("sub-aim-first", "Let's aim for 12 first, since 24 = 2 × 12. 3 × 4 = 12, then 12 × 2 = 24.", {S: 1}),
    ("sub-if-i-can", "If I can make 8, then 8 * 3 = 24. 2 + 6 = 8, so 8 * 3 = 24.", {S: 1}),
    (
        "sub-intermediate",
        "An intermediate goal of 20 would help: 20 + 4 = 24. 5 * 4 = 20, then 20 + 4 = 24.",
        {S: 1},
    ),
    ("sub-first-get-to", "First get to 50, then subtract 2. 25 * 2 = 50, and 50 - 2 = 48.", {S: 1}),
    (
        "sub-paper-close-to",
        "Target 24. First, I'll try to get close to 12, then double it. 3 * 4 = 12.",
        {S: 1},
    ),
    (
        "sub-restated-once",
        "Let's aim for 12 first. 3 + 4 = 7, 7 + 6 = 13. Still aiming for 12: 3 * 4 = 12.",
        {S: 1},
    ),
    (
        "sub-two-with-backtrack",
        "Target: 24. Let's aim for 12 first. 3 + 4 = 7, 7 + 1 = 8. That doesn't work. "
        "New target: 8, since 8 * 3 = 24. 7 + 1 = 8.",
        {S: 2, B: 1},
    ),
    ("sub-try-to-make-first", "I'll try to make 12 from 3 and 4 first, since 12 * 2 = 24.", {S: 1}),
    ("sub-next-is-not", "5 * 4 = 20. Next, 20 + 3 = 23.", {}),
    # --- backward chaining ----------------------------------------------------------------------------------
    ("bc-working-backwards", "Working backwards, 24 is 8 times 3. 2 + 6 = 8.", {W: 1}),
    ("bc-need-with-left", "To get 24 with a 2 left, I need 12. 3 * 4 = 12.", {W: 1}),
    (
        "bc-would-need-remaining",
        "Target 42. 42 - 23 = 19, so we would need 19 from the remaining numbers.",
        {W: 1},
    ),
    (
        "bc-last-step",
        "The last step must be a multiplication by 4, so before that we have to reach 8.",
        {W: 1},
    ),
    (
        "bc-chain-two",
        "Working backwards: 24 = 8 × 3, so I need 8 from 9 and 1. Going back one more step: "
        "8 = 9 − 1. So (9 − 1) × 3 = 24.",
        {W: 2},
    ),
    ("bc-paper-work-backwards", "Let's work backwards from the target. 24/2 = 12. So, 12*2=24.", {W: 1}),
    ("bc-paper-since-target", "Since the target is 22, and 22 + 3 = 25, we can use 25 - 3.", {W: 1}),
    # --- several behaviors, realistic layouts ---------------------------------------------------------------
    (
        "mix-claude-all",
        "<think>\nThe target is 24 and the numbers are 2, 3, 4 and 9. Working backwards, 24 = 2 × "
        "12, so I'd need 12 from 3, 4 and 9. Let's aim for 12 first. 9 + 4 = 13. Check: 13 ≠ 12. That "
        "doesn't "
        "work, so let me go back to 3, 4 and 9.\n9 + 3 = 12. That is the 12 we wanted. Then 12 × 2 = 24, "
        "but the 4 is left over. Scrap that.\n3 × 4 = 12 leaves 9 and 2. Hmm, not helpful.\n</think>\n"
        "<answer>none</answer>",
        {W: 1, S: 1, V: 2, B: 3},
    ),
    (
        "mix-qwen-base",
        "Assistant: Let me solve this step by step.\n<think> Let's try 46 - 38 = 8, then 8 * 3 = 24. "
        "That's not right, it should be 21. Let's try another combination: 46 - 25 = 21. This "
        "works!</think>\n"
        "<answer>46 - 25</answer>",
        {B: 1, V: 1},
    ),
    ("mix-gpt-terse", "Need 32. 30-25=5; 5+3=8; 8*4=32 ✓", {V: 1}),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in CASES])
def test_hand_written_trace_counts(text: str, expected: dict[str, int]) -> None:
    assert count_behaviors(text) == {b: expected.get(b, 0) for b in BEHAVIORS}


# Longer traces where the exact count is a judgement call: assert which behaviors are present, which absent.
LONG_TRACES: list[tuple[str, str, set[str]]] = [
    (
        "claude-prose",
        """<think>
I need to reach 36 using 4, 7, 2 and 5.

Let me think about what multiplies to 36: 4 × 9 = 36, or 6 × 6 = 36.

If I go with 4 × 9, then I'd need 9 from 7, 2 and 5. 7 + 2 = 9, but then 5 is left over. Hmm.

What about 7 + 5 - 2 = 10? That's not 9.

Let me reconsider. Maybe (7 - 5) × 2 = 4... no, that doesn't lead anywhere.

Let me try 5 × 7 = 35, then 35 + 4 - 2 = 37. Too high by one.

OK, let me go back to 4 × 9. I need 9 from 7, 2, 5: 7 + 2 = 9, and 5... I can't drop 5.

(7 - 4) × (5 + 2) = 3 × 7 = 21. No.
</think>
<answer>4 * (7 + 2)</answer>""",
        {V, B, W},
    ),
    (
        "gpt-terse",
        """Let's find a combination for 100 with 25, 4, 10, 3.
25 * 4 = 100. But we still have 10 and 3.
10 - 3 = 7, 100 + 7 = 107, too big.
Alternatively, 25 * (4 + 3) = 175, no.
Let's think differently: 100 = 10 * 10, so we need another 10 from 25, 4, 3: 25 - 4*3 = 13, not 10.
Final: 25 * 4 + 10 - 3 = 107 (closest).""",
        {V, B, W},
    ),
    (
        "qwen-base-run-on",
        "<think> We need to create an equation using the numbers 19, 36, 55, 7 that equals 65. "
        "Let's start by adding 55 and 19: 55 + 19 = 74. That's larger than 65, so let's subtract 7: 74 - 7 "
        "= 67. "
        "Still not 65. Let's try 36 + 19 = 55, 55 + 7 = 62, not 65. Let's try another approach: 55 + 36 - "
        "19 - 7 = "
        "65. That's exactly 65! </think>",
        {V, B},
    ),
    (
        "claude-markdown",
        "**Goal:** 24 from [1, 3, 4, 6]\n\n**Strategy:** Work backwards. 24 = 4 × 6, so I need the "
        "1 and 3 to disappear: 4 × 6 × (3 − 1)? That gives 48. ✗\n\n**Second idea:** 24 = 6 / (1 − 3/4) = "
        "24 ✓\n\n"
        "Answer: 6 / (1 − 3/4)",
        {V, B, W},
    ),
    (
        "claude-stepping-stone",
        "<think>Target is 60. A natural stepping stone is 12, because 12 × 5 = 60. Can I "
        "build 12 from 8, 3 and 1? 8 + 3 + 1 = 12. Then 12 × 5 = 60.</think>",
        {S},
    ),
    (
        "gpt-since-bc",
        "<think>Since 63 = 9 * 7 and we have a 7, the others (2, 11) must make 9: 11 - 2 = 9. "
        "So (11 - 2) * 7 = 63.</think>",
        {W},
    ),
    (
        "neutral-long",
        "<think>\nThe numbers are 12, 7, 3 and 2, and I want 19. I'll add 12 and 7 first: 12 + 7 = 19. "
        "Then the 3 and 2 have to be combined to something neutral: 3 - 2 = 1, and 19 * 1 = 19. So the "
        "expression "
        "is (12 + 7) * (3 - 2).\n</think>\n<answer>(12 + 7) * (3 - 2)</answer>",
        set(),
    ),
]


@pytest.mark.parametrize(("text", "present"), [pytest.param(t, p, id=i) for i, t, p in LONG_TRACES])
def test_long_traces_show_exactly_the_expected_behaviors(text: str, present: set[str]) -> None:
    counts = count_behaviors(text)
    assert {b for b in BEHAVIORS if counts[b] > 0} == present, counts


# --- our own symbolic traces: the generator relies on presence, absence and the backtrack count -------------
SHAPES = [
    frozenset(),
    frozenset({B}),
    frozenset({B, V}),
    frozenset({B, W}),
    frozenset({B, S}),
    frozenset(BEHAVIORS),
    frozenset({V}),
    frozenset({S, V}),
]


@pytest.mark.parametrize("behaviors", SHAPES, ids=lambda b: "+".join(sorted(b)) or "none")
@pytest.mark.parametrize("incorrect", [False, True], ids=["correct", "incorrect"])
def test_symbolic_traces_show_requested_behaviors_only(behaviors: frozenset[str], incorrect: bool) -> None:
    checked = 0
    for index, problem in enumerate(sample_problems(40, preset="paper", seed=5)):
        rng = random.Random(f"classify-test:{index}")
        backtracks = rng.randint(1, 4) if B in behaviors else 0
        shape = Shape(
            verification=V in behaviors,
            backtracking=B in behaviors,
            subgoal_setting=S in behaviors,
            backward_chaining=W in behaviors,
            backtracks=backtracks,
            backward_depth=rng.randint(1, 3),
            incorrect=incorrect,
        )
        try:
            trace = synthesize(problem, shape, rng)
        except NoTrace:
            continue
        counts = count_behaviors(trace.text)
        assert {b for b in BEHAVIORS if counts[b] > 0} == set(behaviors), trace.text
        assert counts[B] == backtracks, trace.text  # `--backtracks K` must read back as K
        checked += 1
    assert checked >= 20


# --- the think block ----------------------------------------------------------------------------------------
def test_only_the_think_block_is_counted() -> None:
    outside = "Too high. Dead end. Let's aim for 12 first. Working backwards."
    assert focus(f"{outside}<think>5 + 3 = 8.</think><answer>too high</answer>") == "5 + 3 = 8."
    assert count_behaviors(f"{outside}<think>5 + 3 = 8.</think>\n<answer>5 + 3</answer>") == dict.fromkeys(
        BEHAVIORS, 0
    )


def test_think_block_without_opening_tag_as_in_tinyzero_completions() -> None:
    # The TinyZero prompt ends with "<think>", so completions start inside the block.
    text = "30 - 25 = 5, too low. Scrap that.</think>\n<answer>(30 - 25 + 3) * 4</answer> Too high."
    assert focus(text) == "30 - 25 = 5, too low. Scrap that."
    assert count_behaviors(text) == {B: 1, W: 0, S: 0, V: 1}


def test_think_block_cut_off_before_its_closing_tag() -> None:
    assert focus("<think>3 * 8 = 24 ✓") == "3 * 8 = 24 ✓"
    assert focus("<think>3 * 8 = 24 ✓<answer>3 * 8</answer>") == "3 * 8 = 24 ✓"
    assert count_behaviors("<think>3 * 8 = 24 ✓")[V] == 1


# --- the classifier interface -------------------------------------------------------------------------------
def test_rule_classifier_implements_the_interface_and_answers_every_text() -> None:
    classifier = RuleClassifier()
    assert isinstance(classifier, BehaviorClassifier) and classifier.name == "rules"
    texts = ["5 * 8 = 40. Too high.", "", "Dead end. Back to 3, 4 and 5."]
    assert classifier.count(texts) == [count_behaviors(t) for t in texts]


def test_non_string_input_is_an_error_result_not_a_silent_zero() -> None:
    results = RuleClassifier().count(["Too high.", None, b"bytes"])  # type: ignore[list-item]
    assert results[0] == count_behaviors("Too high.")
    assert isinstance(results[1], ClassifyError) and "NoneType" in results[1].reason
    assert isinstance(results[2], ClassifyError)
    with pytest.raises(TypeError):
        count_behaviors(None)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------------------------
FRAGMENTS = [
    "Let me check: ",
    "14 ≠ 24",
    "too high",
    "too low",
    "not 24",
    "That works!",
    "✓",
    "✗",
    "Dead end.",
    "Going back to the start.",
    "Let's try a different approach.",
    "Scrap that.",
    "instead",
    "Let's aim for 12 first",
    "If I can make 8,",
    "an intermediate goal of 20",
    "Working backwards,",
    "we would need 19 from the rest",
    "to get 24 with a 2 left, I need 12",
    "The last step must be",
    "<think>",
    "</think>",
    "<answer>",
    "no.",
    "target: 24.",
    "the goal is 13.",
    "5 * 4 = 20.",
    "20 + 3 = 23",
    "(30 - 25 + 3) * 4",
    "\n",
    "\n\n- ",
    "**",
    "?",
    "what times 3 gives 24",
    "first",
    "back",
    "try",
    "need",
    "must make 7",
    "≠",
    "×",
    "÷",
    "−",
    "\x00",
    "\u2019",
]
trace_like = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.integers(0, 10**6).map(str), st.text(max_size=8)), max_size=40
).map(" ".join)
any_text = st.one_of(st.text(), trace_like)


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_never_raises_and_gives_four_non_negative_counts(text: str) -> None:
    counts = count_behaviors(text)
    assert list(counts) == list(BEHAVIORS)
    assert all(type(n) is int and n >= 0 for n in counts.values())


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_same_text_same_counts(text: str) -> None:
    assert count_behaviors(text) == count_behaviors(text) == RuleClassifier().count([text])[0]


@settings(max_examples=200, deadline=None)
@given(any_text.filter(lambda t: "think>" not in t))
def test_wrapping_in_think_tags_changes_nothing(text: str) -> None:
    assert count_behaviors(f"<think>{text}</think>\n<answer>1 + 2</answer>") == count_behaviors(text)


@settings(max_examples=200, deadline=None)
@given(trace_like.filter(lambda t: t.isascii() and "think>" not in t))  # the tags themselves are lower-case
def test_case_does_not_matter(text: str) -> None:
    assert count_behaviors(text.upper()) == count_behaviors(text)


# --- linear time: 1 MB adversarial strings (catastrophic backtracking would take minutes or hours) ----------
MB = 1_000_000
ADVERSARIAL = {
    "letters": "a" * MB,
    "digits": "9" * MB,
    "blanks": " \t" * (MB // 2),
    "full stops": "." * MB,
    "newlines": "\n" * MB,
    "nul": "\x00" * MB,
    "no-sentences": "no. " * (MB // 4),
    "not-numbers": "not 1 " * (MB // 6),
    "aim-digits": "aim for " + "1" * MB,
    "first-gap": ("first " + "b" * 39 + " ") * (MB // 46),
    "need-chain": "to get 1 " + "need " * (MB // 5),
    "question-ops": "? + 1 = 1" * (MB // 9),
    "targets": "target " * (MB // 7),
    "check-marks": "✓" * MB,
    "one-cue-segment": "going back " * (MB // 11),
    "think-tags": "<think>" * (MB // 7),
    "mixed-cues": "".join(random.Random(0).choice(FRAGMENTS) + " " for _ in range(MB // 12))[:MB],
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_one_megabyte_adversarial_input_finishes_fast(text: str) -> None:
    start = time.process_time()
    counts = count_behaviors(text)
    # About a second here; the bound only catches super-linear blow-ups, not slow machines.
    assert time.process_time() - start < 30
    assert list(counts) == list(BEHAVIORS)
