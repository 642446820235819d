"""Rewrite checks: a document's final answer by rules, math-verify's three outcomes, and the three checks."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

pytest.importorskip("math_verify")
pytest.importorskip("rapidfuzz")

from cogbeh.curate.answers import compare, final_answer  # noqa: E402
from cogbeh.curate.checks import check_rewrite, normalise, question_score  # noqa: E402

LINEAR = ("Problem: Solve $2x + 1 = 7$ for $x$.\n\nSolution. Subtract 1 from both sides to get $2x = 6$, then divide "
          "by 2. So the answer is $\\boxed{3}$.\n\nCheck: $2 \\cdot 3 + 1 = 7$, which is what we wanted, so "
          "$7 = 7$.")
STATED = ("How many apples are left if Tom has 12 and eats 5? Tom starts with 12. He eats 5, so 12 - 5 = 7.\n"
          "Answer: 7\nLet me verify by adding back: 7 + 5 = 12. Correct.")
CONCLUDED = ("Find the positive root of $x^2 = 9$. Taking square roots gives $x = \\pm 3$. Therefore x = 3. "
             "Substituting back, 3^2 = 9 holds.")
NESTED = "Compute the sum. After simplifying, $\\boxed{\\frac{1}{2} + \\{1\\}}$ then finally \\boxed{\\frac{3}{4}}."
PROOF = "We prove that the square root of 2 is irrational. Suppose it were p/q in lowest terms; a contradiction."


@dataclass
class Rewrite:
    question: str
    thoughts: str
    answer: str


RICH = ("I start from 2x + 1 = 7. Subtracting 1 gives 2x = 6, so x = 3. Let me check: 2(3) + 1 = 7, which is "
        "correct.")
PLAIN = "Subtract 1 from both sides: 2x = 6. Divide by 2: x = 3."


@pytest.mark.parametrize("document, expected", [
    (LINEAR, "3"),  # boxed, then a verification whose last expression (7 = 7) is not the answer
    (STATED, "7"),  # "Answer: X", then a check (7 + 5 = 12)
    (CONCLUDED, "x = 3"),  # a conclusion assigning a variable, then a check
    (NESTED, "\\frac{3}{4}"),  # the last box, braces balanced
    ("The final answer is 42. Indeed 6*7 = 42.", "42"),
    ("**Answer:** $\\frac{3}{4}$", "$\\frac{3}{4}$"),
    (PROOF, None),
])
def test_final_answer(document: str, expected: str | None) -> None:
    assert final_answer(document) == expected


def test_final_answer_is_not_math_verify_last_expression() -> None:
    from math_verify import parse

    naive = parse(CONCLUDED, parsing_timeout=None)  # takes the check's 3^2 = 9, not the answer
    assert naive and str(naive[0]) == "9"
    assert compare(final_answer(CONCLUDED), "3") == "match"


@pytest.mark.parametrize("gold, candidate, outcome", [
    ("3", "x = 3", "match"),
    ("\\frac{1}{2}", "0.5", "match"),
    ("$2\\sqrt{2}$", "$\\sqrt{8}$", "match"),
    ("7", "7 apples", "match"),
    ("3", "4", "mismatch"),
    ("x = 3", "x = 4", "mismatch"),
    (None, "3", "cannot_check"),
    ("3", "", "cannot_check"),
    ("the square root of two is irrational", "3", "cannot_check"),
    ("3", "9" * 400, "cannot_check"),  # too long to parse without a timeout
])
def test_compare(gold: str | None, candidate: str, outcome: str) -> None:
    assert compare(gold, candidate) == outcome


def test_question_score_normalises_markup() -> None:
    assert normalise("Solve  $2x+1=7$ **now**") == "solve 2x+1=7 now"
    assert question_score("Solve 2x + 1 = 7 for x.", LINEAR) >= 85
    assert question_score("What is the capital of France?", LINEAR) < 85


def test_faithful_rich_rewrite_is_kept() -> None:
    result = check_rewrite(LINEAR, Rewrite("Solve $2x + 1 = 7$ for $x$.", RICH, "3"), "rich")
    assert result.kept, result.reasons
    assert result.answer == "match" and result.behaviors["verification"] > 0
    assert result.to_json()["answer"] == "match"


def test_each_check_fails_with_a_reason() -> None:
    foreign = check_rewrite(LINEAR, Rewrite("What is the capital of France?", RICH, "3"), "rich")
    assert not foreign.kept and foreign.reasons[0].startswith("question:")
    flat = check_rewrite(LINEAR, Rewrite("Solve $2x + 1 = 7$ for $x$.", PLAIN, "3"), "rich")
    assert [r.split(":")[0] for r in flat.reasons] == ["behaviors"]
    busy = check_rewrite(LINEAR, Rewrite("Solve $2x + 1 = 7$ for $x$.", RICH, "3"), "minimal")
    assert "minimal thoughts show verification" in busy.reasons[0]
    wrong = check_rewrite(LINEAR, Rewrite("Solve $2x + 1 = 7$ for $x$.", RICH, "4"), "rich")
    assert wrong.answer == "mismatch" and "does not match" in wrong.reasons[0]


def test_answer_policy() -> None:
    rewrite = Rewrite("We prove that the square root of 2 is irrational.", RICH, "It is irrational.")
    lenient = check_rewrite(PROOF, rewrite, "rich", answer_check="lenient")
    strict = check_rewrite(PROOF, rewrite, "rich", answer_check="strict")
    assert lenient.answer == strict.answer == "cannot_check"
    assert lenient.kept and not strict.kept and "cannot check" in strict.reasons[0]
    boxed = check_rewrite(LINEAR, Rewrite("Solve $2x + 1 = 7$ for $x$.", RICH, "So $\\boxed{3}$."), "rich",
                          answer_check="strict")
    assert boxed.kept


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="style"):
        check_rewrite(LINEAR, Rewrite("q", "t", "a"), "medium")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="answer-check"):
        check_rewrite(LINEAR, Rewrite("q", "t", "a"), "rich", answer_check="loose")  # type: ignore[arg-type]
