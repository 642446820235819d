"""The offline rule labeler for math prose (`curate classify --judge rules`): what a user relies on."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.cues import BEHAVIOR_CUES, PROBLEM, SOLUTION
from cogbeh.curate.labels import DocumentLabels, LabelError, make_labeler
from cogbeh.curate.rules import FAMILIES, RuleLabeler, explain, family_spans, label_text
from cogbeh.curate.scores import confusion, format_confusion

CORPUS = Path(__file__).resolve().parents[1] / "data" / "curate" / "corpus.jsonl"
DEV2 = CORPUS.with_name("corpus_dev2.jsonl")
TEST2 = CORPUS.with_name("corpus_test2.jsonl")


def fired(text: str) -> set[tuple[str, str]]:
    """(behavior, family) pairs whose cues match `text` (full scan)."""
    return {(hit.behavior, hit.family) for hit in explain(text)}


# One realistic sentence per cue family, written the way people write math on the web.
POSITIVE: list[tuple[str, str, str]] = [
    ("verification", "check_work", "Let's check: with x = 3 the left side is 9 - 15 + 6 = 0."),
    ("verification", "check_work", "To check, I differentiated the antiderivative."),
    ("verification", "double_check", "A quick sanity check with 1000 terms gives 1.6439."),
    ("verification", "double_check", "To double-check, use the Taylor expansion of cos x."),
    ("verification", "verify", "We can verify this by expanding the product."),
    ("verification", "make_sure", "Let's make sure the direction of the inequality is right with numbers."),
    ("verification", "substitute_back", "Plugging x = 3 back into the original equation gives 0."),
    ("verification", "substitute_back", "Substituting x = 2 back in, both sides equal 7."),
    ("verification", "agrees", "The sum is 55, which agrees with the formula n(n+1)/2."),
    ("verification", "agrees", "The limit is 1/2, as expected."),
    ("verification", "agrees", "For x = 6 we get 3 = 3 ✓"),
    ("verification", "test_case", "Let's test the formula with a small case: n = 1 gives 1."),
    ("backtracking", "wait", "Wait, that can't be the whole story: the sign is off."),
    ("backtracking", "mistake", "I made a mistake in the second line: the constant should be negative."),
    ("backtracking", "mistake", "Hmm, that's not right — I forgot the inner derivative."),
    ("backtracking", "dead_end", "But then the x stays in the exponent, so this doesn't work at all."),
    ("backtracking", "dead_end", "Partial fractions is a dead end here."),
    ("backtracking", "abandon", "So I gave up on it and switched to the derivative."),
    ("backtracking", "abandon", "The comparison goes the other way; let's use the integral test instead."),
    ("backtracking", "try_again", "Let me try a different substitution, t = tan(x/2)."),
    ("backtracking", "try_again", "Scrap the integral; back to the drawing board."),
    ("backtracking", "go_back", "Going back to the original equation, we isolate y."),
    ("subgoal_setting", "first_we", "First, we need to find the derivative of f, then we solve f'(x) = 0."),
    ("subgoal_setting", "first_we", "We first compute the monthly rate, then the number of periods."),
    ("subgoal_setting", "step_n", "Step 1: find the slope."),
    ("subgoal_setting", "then_next", "It remains to show that the sequence is bounded."),
    ("subgoal_setting", "goal_plan", "Our goal is to show that n^3 - n is divisible by 6."),
    ("subgoal_setting", "goal_plan", "Plan: find the critical points first, then compare the values."),
    ("subgoal_setting", "break_down", "We break this into two parts: the base case and the inductive step."),
    ("backward_chaining", "suffices", "It suffices to show that the sequence is increasing and bounded."),
    ("backward_chaining", "work_backwards", "Working backwards from the final 3 marbles, she had 8 before."),
    ("backward_chaining", "need_for", "For $n!$ to end in six zeros we need six factors of 5 in $n!$."),
    ("backward_chaining", "need_for", "We want a_n < 2, so we need a_{n-1} < 2 as well."),
    ("backward_chaining", "need_for", "In order to find the height, we need the launch speed."),
    ("backward_chaining", "assume_goal", "So what we need is 2|x - 3| < epsilon."),
    # Phrasings of dev2 (issue 11): goal -> requirement moves, announced plans and checks without cue words
    # of the first dev split.
    ("backward_chaining", "reduce_goal", "Showing that G is cyclic boils down to finding one generator."),
    ("backward_chaining", "reduce_goal", "We're done once we know that the square of the sum is irrational."),
    ("backward_chaining", "reduce_goal", "What we're after is the period, and that needs the frequency."),
    ("backward_chaining", "reduce_goal", "By strong induction the claim reduces to the three base cases."),
    ("backward_chaining", "need_for", "For the output to be 3.3 V, the ratio must be 0.66."),
    ("backward_chaining", "work_backwards", "Start from what is required at the top of the loop."),
    ("subgoal_setting", "goal_plan", "Our first target is the multiplicative order of 3 modulo 13."),
    ("subgoal_setting", "goal_plan", "The plan is to turn the equation into a product equal to a constant."),
    ("subgoal_setting", "first_we", "So to get there I'd want the flight time first."),
    ("subgoal_setting", "first_we", "We need each hand's angle, measured from 12, before we can subtract."),
    ("verification", "check_work", "Check the units: metres per second times seconds is metres."),
    ("verification", "agrees", "At x = 0.001 the expression is about 0.49988, consistent with 1/2."),
    ("verification", "agrees", "The good subsets are five, matching a_3 = 2 + 3 = 5."),
    ("verification", "agrees", "The partial sums creep up toward 2, which is reassuring."),
    ("verification", "agrees", "Plugging back in gives 3.30 V. ✓"),
    ("backtracking", "dead_end", "I went through two dead ends before finding this."),
    # General shapes (issue 11, third round): goal -> requirement in one sentence, "first ..., then" plans,
    # the writer checking a result without a cue word of the earlier splits.
    ("backward_chaining", "requirement", "We want this product to be 10, so the exponents must be 9 or 4, 1."),
    ("backward_chaining", "requirement", "The required ratio is 0.66, so we need R2/(R1 + R2) = 0.66."),
    ("backward_chaining", "requirement", "Expanding gives 2 + a/b + b/a, so we need to show a/b + b/a >= 2."),
    ("backward_chaining", "requirement", "To find the area we need the radius."),
    ("backward_chaining", "requirement", "To make the fraction an integer, the denominator has to divide 12."),
    ("backward_chaining", "requirement", "The answer has to be even, so the last digit must be 0, 2, 4, 6 or 8."),
    ("backward_chaining", "need_for", "For the series to converge, the terms must go to zero faster than 1/n."),
    ("backward_chaining", "suffices", "To count the pairs it suffices to count the divisors of 36."),
    ("backward_chaining", "assume_goal", "With t = a/b, what we need becomes t + 1/t >= 2."),
    ("backward_chaining", "reduce_goal", "After the substitution the question becomes whether 3 divides p^2 + 2."),
    ("backward_chaining", "reduce_goal", "Showing g is onto amounts to solving g(x) = y for every y."),
    ("backward_chaining", "reduce_goal", "We want the height. That in turn requires the launch speed."),
    ("backward_chaining", "assume_goal", "What must be true for this to hold? The discriminant must be >= 0."),
    ("backward_chaining", "work_backwards", "Working from the end: before the last step she had 12."),
    ("backward_chaining", "work_backwards", "Think about how you arrive at step n: the last move was 1 or 2 steps."),
    ("subgoal_setting", "first_then", "Approach: first reduce the parallel pair, then add the series resistor."),
    ("subgoal_setting", "first_then", "It's much easier to first find the probability of no match, and then "
                                      "subtract it from 1."),
    ("subgoal_setting", "first_then", "I'll first row-reduce to a triangular matrix, then multiply the diagonal."),
    ("subgoal_setting", "first_then", "First we cut the polygon into triangles; then we count them."),
    ("subgoal_setting", "first_then", "Before computing the integral we need the limits of integration."),
    ("subgoal_setting", "first_we", "We'll find x first, then y."),
    ("subgoal_setting", "then_next", "I'll compute the determinant and then use it to invert the matrix."),
    ("subgoal_setting", "then_next", "Let's begin with the velocity; after that the energy is easy."),
    ("subgoal_setting", "goal_plan", "The key is to find the radius of the inscribed circle."),
    ("subgoal_setting", "goal_plan", "The first thing to do is find the height of the triangle."),
    ("verification", "check_work", "Checking directly: 1 + ... + 31 = 496, which is not more than 500."),
    ("verification", "agrees", "And indeed $3 + 7 = 10$ and $3 \\cdot 7 = 21$."),
    ("verification", "agrees", "The numbers are 25, 27 and 29, and 25 + 27 + 29 = 81, so that works."),
    ("verification", "plausibility", "I got 9 hours. But that can't be right: two pipes should be faster than "
                                     "one."),
    ("verification", "plausibility", "A speed of 20 m/s is about 72 km/h, which is reasonable."),
    ("verification", "plausibility", "The answer 1/3 is reasonable, since it lies between 0 and 1."),
    ("verification", "second_method", "Both approaches give 3/8."),
    ("verification", "second_method", "Using the other method we again get 42."),
    ("verification", "second_method", "We compare this with the exact value 0.6931: the error is under 0.1%."),
    ("verification", "second_method", "The units work out: kg m/s^2 is a newton."),
    ("verification", "substitute_back", "In the limit m -> 0 we recover the classical result."),
    ("verification", "test_case", "Let's see if this is right by trying n = 2."),
]

# False friends: everyday or software uses of the cue words that are no behavior at all.
NEGATIVE: list[str] = [
    "Check out the course website for the syllabus.",
    "This release is backward compatible with 2.2 for all public functions.",
    "The goal of this course is to introduce linear algebra.",
    "Call handle.wait() to wait for the solver to converge.",
    "You won't want to wait for the second half of the episode.",
    "To verify your installation, run the self-test.",
    "A panel of four referees spent two years verifying the argument.",
    "We go back to basics for the first twenty minutes.",
    "The standard error of the mean is sigma over root n.",
    "This approach leads to a contradiction, so no such n exists.",
    "Step 1 of the migration guide explains how to replace the calls.",
    "The author works backwards from ten celebrated results to the people who found them.",
    "Check your understanding with the routine questions at the end of each chapter.",
    "The ratio test is inconclusive for this series.",
    "Case 1: x is even. Then x^2 is even.",
    "I tried again after clearing the cache and still nothing rendered.",
    "Make sure you enable JavaScript in your browser.",
    # False friends of dev2: software, news, obituaries, requests, algorithms, syllabi, lecture plans.
    "`set_limits()` now runs a sanity check on its arguments and raises ValueError for NaN.",
    "`savefig()` asks you to confirm before overwriting an existing file.",
    "| Linux | ✓ | ✓ |",
    "Our strategy is to keep it for two more releases and then remove it.",
    "Opponents argued the budget had not been double-checked.",
    "Can someone double check my work and confirm this is the final answer?",
    "We'll check all submissions and publish the names of the winners.",
    "Is there a quick way to check whether a number is divisible by 11?",
    "Ohm's measurements were consistent with what most of us see in class.",
    "When it reaches a cell where no digit is allowed, it has hit a dead end.",
    "- Week 4: Working backwards from the goal; reduction to simpler problems.",
    "The heuristic I come back to most is working backwards: start from what you want.",
    "The plan is to take the axiomatic route in today's lecture.",
    "My first idea was to compare with the harmonic series.",
    "Check the units of every final answer and give two significant figures.",
    "Reduce the fraction to lowest terms before you submit it.",
    # False friends of the general shapes: instructions, agendas, software steps, solving steps, derivations.
    "Exercise 4. Verify that the function satisfies the differential equation.",
    "First we give the definitions, then we look at their geometric meaning.",
    "I first tried the substitution u = x^2, then gave it a rest.",
    "Getting started Step 1: install with pip. Step 2: import the symbols you need.",
    "Eliminate y to find x, and then back-substitute to get y.",
    "A strictly increasing function never takes the same value twice.",
    "Colleagues wishing to speak should check with the department office.",
    "Heuristics: drawing a figure, working on special cases, and checking the result.",
    "So we need to find the value of x next.",
    "First we define a group, then we study its subgroups.",
    "First, thanks to everyone who came; then a few announcements.",
    "The question becomes more interesting in higher dimensions.",
    "To get a grade, you must submit all homework.",
    "Both approaches give students a way in.",
    "The key is in the top drawer.",
    "We want to thank the organisers.",
    "For the workshop to run smoothly, participants should register by Friday.",
    "Or have I made an arithmetic error somewhere?",
    "The point x = 1 solves $\\sqrt{x+3} = -(x-3)$ instead.",
    "For all 23 birthdays to be different, the second person must avoid 1 day.",
]


def test_a_doubt_without_a_standard_is_backtracking_not_verification() -> None:
    # "That can't be right" is a check only when the result is held against something it must satisfy.
    bare = label_text("Hmm, that can't be right, but I don't know why.").counts
    held = label_text("9 hours? That can't be right: together they must be faster than 3 hours.").counts
    assert (bare["verification"], bare["backtracking"]) == (0, 1)
    assert held["verification"] == 1


@pytest.mark.parametrize(("behavior", "family", "sentence"), POSITIVE)
def test_each_cue_family_fires_on_a_realistic_sentence(behavior: str, family: str, sentence: str) -> None:
    assert (behavior, family) in fired(sentence)
    assert label_text(sentence).counts[behavior] >= 1


@pytest.mark.parametrize("sentence", NEGATIVE)
def test_false_friends_show_no_behavior(sentence: str) -> None:
    assert not label_text(sentence).rich, [h for h in explain(sentence) if h.behavior in BEHAVIORS]


def test_every_cue_family_is_exercised_by_a_positive_example() -> None:
    covered = {(b, f) for b, f, _ in POSITIVE}
    assert covered == {(b, f.name) for b, families in BEHAVIOR_CUES.items() for f in families}


def test_cue_families_are_documented() -> None:
    for family in [f for families in BEHAVIOR_CUES.values() for f in families] + list(PROBLEM + SOLUTION):
        assert family.name.isidentifier() and family.doc and "\n" not in family.doc and family.anchors


def test_counts_count_distinct_instances() -> None:
    # Two cues in one sentence are one instance; the same move in two sentences is two.
    one = "Wait, that's wrong: I made a mistake in the sign."
    two = "Wait, that's wrong. Later on I made a mistake in the sign."
    assert label_text(one).counts["backtracking"] == 1
    assert label_text(two).counts["backtracking"] == 2
    steps = "Step 1: find the slope. Step 2: find the intercept. Step 3: write the line."
    assert label_text(steps).counts["subgoal_setting"] == 3


def test_problem_and_solution_flags() -> None:
    worked = "Problem. Solve 2x + 1 = 7.\n\nSolution. Subtracting 1 gives 2x = 6, so x = 6/2 = 3."
    unanswered = "How many lockers are open at the end?\n\nYou'll have to wait until next week for the answer"
    news = "The Academy announced on Tuesday that this year's medal goes to Dr. Brandvold."
    assert (label_text(worked).contains_problem, label_text(worked).contains_solution) == (True, True)
    flags = label_text(unanswered)
    assert (flags.contains_problem, flags.contains_solution) == (True, False)
    assert (label_text(news).contains_problem, label_text(news).contains_solution) == (False, False)


def test_labeler_contract_and_non_strings_are_errors() -> None:
    labeler = make_labeler("rules")
    assert isinstance(labeler, RuleLabeler) and labeler.name == "rules"
    texts = ["Let's check: 2 + 2 = 4 ✓", None, 42, ""]
    results = labeler.label(texts)  # type: ignore[arg-type]
    assert len(results) == 4
    assert isinstance(results[0], DocumentLabels) and results[0].counts["verification"] == 1
    assert isinstance(results[1], LabelError) and isinstance(results[2], LabelError)
    assert results[3] == DocumentLabels({b: 0 for b in BEHAVIORS}, False, False)


def test_fast_path_finds_what_a_full_scan_finds() -> None:
    # The anchors are only a speed device: every match of a full regex scan is found near an anchor.
    texts = [s for _, _, s in POSITIVE] + NEGATIVE
    if CORPUS.exists():
        rows = map(json.loads, CORPUS.read_text().splitlines())
        texts += [row["text"] for row in rows]
    if DEV2.exists():
        texts += [row["text"] for row in map(json.loads, DEV2.read_text().splitlines())]
    for text in texts:
        low = text.lower()
        for families in FAMILIES.values():
            for family in families:
                fast = family_spans(family, low)
                for m in family.regex.finditer(low):
                    assert any(a < m.end() and m.start() < b for a, b in fast), (family.cue.name, m.group())


SENTENCES = st.sampled_from([s for _, _, s in POSITIVE] + NEGATIVE + ["x = 3.5", "\n\n", "?", "wait wait"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SENTENCES, max_size=12), st.sampled_from([" ", "\n", "  \n\n", " — "]))
def test_labels_are_deterministic_and_the_labeler_agrees_with_label_text(parts: list[str], sep: str) -> None:
    text = sep.join(parts)
    first = label_text(text)
    assert label_text(text) == first
    assert RuleLabeler().label([text]) == [first]
    assert all(count <= max(1, len(text)) for count in first.counts.values())


@pytest.mark.parametrize("unit", ["wait ", "wait wait wait, ", "? ", "= ", "$", ".", "in order to ", "for ",
                                  "check that check that ", "it suffices to ", "a" * 7 + " ",
                                  "first ", "must ", "so we need ", "that can't be right: "])
def test_linear_time_on_pathological_input(unit: str) -> None:
    text = unit * (200_000 // len(unit))
    start = time.perf_counter()
    label_text(text)
    assert time.perf_counter() - start < 2.0  # generous: ~0.05 s here; a quadratic scan would take minutes


def _corpus(split: str) -> tuple[list[DocumentLabels], list[str]]:
    path = {"dev2": DEV2, "test2": TEST2}.get(split, CORPUS)
    rows = [row for row in map(json.loads, path.read_text().splitlines()) if row["split"] == split]
    truth = [DocumentLabels({b: row[b] for b in BEHAVIORS}, row["contains_problem"], row["contains_solution"])
             for row in rows]
    return truth, [row["text"] for row in rows]


# Precision/recall floors per split, set just under what the labeler reached. Cues were written on dev,
# generalised on dev2 (issue 11: phrasings varied on purpose, with hard negatives), then generalised again on
# dev + dev2 + test together: "test" is retired as development data (its first, held-out score was backward
# chaining R 0.55, subgoal setting R 0.58, verification P 0.68). The held-out split is now "test2", scored
# exactly once after the cues were frozen; its floors record that single measurement, not a target.
FLOORS: dict[str, dict[str, tuple[float, float]]] = {
    "dev": {field: (0.95, 0.95) for field in (*BEHAVIORS, "contains_problem", "contains_solution")},
    "dev2": {"backtracking": (0.9, 0.95), "backward_chaining": (0.95, 0.95), "subgoal_setting": (0.95, 0.95),
             "verification": (0.95, 0.95), "contains_problem": (0.95, 0.9), "contains_solution": (0.95, 0.8)},
    "test": {"backtracking": (0.85, 0.95), "backward_chaining": (0.9, 0.95), "subgoal_setting": (0.95, 0.95),
             "verification": (0.9, 0.95), "contains_problem": (0.95, 0.85), "contains_solution": (0.9, 0.8)},
    # test2 (64 docs), scored once with the cues frozen: backtracking P 0.83 R 0.59, backward chaining P 0.73
    # R 0.69, subgoal setting P 1.00 R 0.82, verification P 0.80 R 0.67, problem P 0.98 R 0.92, solution P 0.98
    # R 0.88. Backtracking recall, backward chaining precision and recall, and verification recall stay below
    # 0.8: on unseen phrasings the rules still miss a third of the checks and backtracks. These floors record
    # that measurement honestly; they are not a target and were not tuned toward.
    "test2": {"backtracking": (0.8, 0.55), "backward_chaining": (0.7, 0.65), "subgoal_setting": (0.95, 0.8),
              "verification": (0.75, 0.65), "contains_problem": (0.95, 0.9), "contains_solution": (0.95, 0.85)},
}


@pytest.mark.skipif(not CORPUS.exists(), reason="fixture corpus not written yet")
@pytest.mark.parametrize("split", ["dev", "dev2", "test", "test2"])
def test_fixture_corpus_precision_and_recall(split: str) -> None:
    if split == "test2" and not TEST2.exists():
        pytest.skip("held-out split test2 not written yet")
    truth, texts = _corpus(split)
    table = confusion(truth, RuleLabeler().label(texts))
    report = format_confusion(table, split)
    for field, (precision, recall) in FLOORS[split].items():
        assert table[field].errors == 0, report
        assert table[field].precision >= precision and table[field].recall >= recall, report
