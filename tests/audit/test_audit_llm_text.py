"""The auditor in lenient mode on traces written the way a frontier LLM writes Countdown reasoning (free prose,
"Let's try", "Hmm,", equations inline, returns left unsaid), not in our templates' wordings: sound traces pass,
and each unsound one is flagged for its one planted error, at the sentence that holds it."""

from __future__ import annotations

import pytest

from cogbeh.audit import Finding, audit_record, audit_text
from cogbeh.records import Record, zero_counts


def completion(think: str, answer: str) -> str:
    return f"<think>\n{think}\n</think>\n<answer>{answer}</answer>"


def lenient(text: str, nums: tuple[int, ...], target: int) -> list[Finding]:
    return audit_text(text, nums, target, strict=False)


# Each case: (completion, nums, target, expected). `expected` is None for a sound trace, else (a substring of the
# first finding's problem, a fragment of the sentence that holds the planted error).
Case = tuple[str, tuple[int, ...], int, tuple[str, str] | None]

SOUND_UNNARRATED_RETURN = completion(
    "Let's try 25 + 3 = 28. Then 28 - 4 = 24, but that leaves 6 unused, so it doesn't work.\n"
    "What if I start with 25 - 3 = 22 instead? Then I need 2 more, and 6 - 4 = 2. So 22 + 2 = 24.\n"
    "That uses all four numbers exactly once.",
    "(25 - 3) + (6 - 4)",
)

SOUND: dict[str, Case] = {
    "unnarrated return to the start": (SOUND_UNNARRATED_RETURN, (25, 3, 4, 6), 24, None),
    "compound expression line with bracketed sides": (
        completion(
            "Hmm, 24 is small compared to 25, so maybe subtract. 25 - 3 = 22, and 6 - 4 = 2.\n"
            "22 + 2 = 24. Putting it together:\n(25 - 3) + (6 - 4) = 24",
            "(25 - 3) + (6 - 4)",
        ),
        (25, 3, 4, 6), 24, None,
    ),
    "unicode operators": (
        completion(
            "First attempt: 72 − 18 = 54. 54 ÷ 5 isn't whole, and 54 − 5 = 49 is way off.\n"
            "Let's try dividing instead: 72 ÷ 18 = 4, and 4 × 5 = 20. That's the target.",
            "72 / 18 * 5",
        ),
        (72, 18, 5), 20, None,
    ),
    "narrated return from a real dead end, with a true overshoot": (
        completion(
            "Hmm, 96 is much bigger than 36, so let's divide. 96 / 3 = 32, and 32 + 8 = 40.\n"
            "40 is 4 too high for 36. Let me go back to 8, 3 and 96.\n"
            "96 / 8 = 12, and 12 * 3 = 36. Got it!",
            "96 / 8 * 3",
        ),
        (8, 3, 96), 36, None,
    ),
    "narrated tables that are right": (
        completion(
            "We have 50, 6 and 3. Quick idea: 50 - 3 = 47 right away, but then 6 is left over.\n"
            "Let's try 50 - 6 = 44, leaving 44 and 3. Then 44 + 3 = 47. That's our target!",
            "50 - 6 + 3",
        ),
        (50, 6, 3), 47, None,
    ),
    "true near misses and an unnarrated return": (
        completion(
            "Let's see. 15 * 4 = 60, that leaves 60, 9 and 2. 60 + 9 = 69, and 69 + 2 = 71.\n"
            "Hmm, 71 is 2 too low for 73. What about 9 - 4 = 5? Then 15 * 5 = 75, and 75 - 2 = 73.\n"
            "Yes, 73 = 73.",
            "15 * (9 - 4) - 2",
        ),
        (15, 4, 9, 2), 73, None,
    ),
    "informal shortfall and a fresh attempt": (
        completion(
            "What if we multiply first? 31 * 2 = 62, and 62 - 12 = 50. We're 5 short.\n"
            "Hmm, what about 12 * 2 = 24? Then 31 + 24 = 55. That works.",
            "31 + 12 * 2",
        ),
        (31, 12, 2), 55, None,
    ),
    "a not-equal check then a new start": (
        completion(
            "100 - 7 = 93. 93 - 4 = 89, 89 - 3 = 86. 86 ≠ 81.\n"
            "Let me think again. 4 * 3 = 12, and 100 - 12 = 88. 88 - 7 = 81 ✓",
            "100 - 4 * 3 - 7",
        ),
        (100, 4, 7, 3), 81, None,
    ),
    "going back to the original numbers by name": (
        completion(
            "27 * 2 = 54. From there I can't get near 29 easily: 54 - 9 = 45, 45 - 5 = 40. 40 is not 29.\n"
            "Let me go back to the original numbers: 27, 9, 5 and 2.\n"
            "9 - 5 = 4, 4 / 2 = 2, and 27 + 2 = 29. That's it!",
            "27 + (9 - 5) / 2",
        ),
        (27, 9, 5, 2), 29, None,
    ),
    "a return to an intermediate table, unsaid": (
        completion(
            "15 * 4 = 60. Then 60 + 9 = 69 and 69 + 2 = 71, close but no.\n"
            "From 60, 9 and 2 again: 9 * 2 = 18, 60 + 18 = 78. 78 is 5 too high for 73.\n"
            "OK, a different start: 9 - 4 = 5, 15 * 5 = 75, 75 - 2 = 73.",
            "15 * (9 - 4) - 2",
        ),
        (15, 4, 9, 2), 73, None,
    ),
    "a verification that restates the solution": (
        completion(
            "12 * 5 = 60. Now we have 60, 7, and 2. 60 + 7 = 67, which is too much unless I subtract 2: "
            "67 - 2 = 65.\nLet me double-check: 12 * 5 = 60, 60 + 7 = 67, 67 - 2 = 65. Correct.",
            "12 * 5 + 7 - 2",
        ),
        (12, 7, 2, 5), 65, None,
    ),
    "a search that gives up with the closest value": (
        completion(
            "9 * 8 = 72, 72 - 7 = 65, 65 - 2 = 63. Too high by 8.\n"
            "9 * 7 = 63, 63 - 8 = 55, but 2 is unused, and 55 * 2 = 110.\n"
            "Hmm. 8 * 7 = 56, 56 - 9 = 47, 47 + 2 = 49. I can't reach 55 exactly; 56 - 2 = 54 is the closest.",
            "8 * 7 - 2",
        ),
        (9, 8, 7, 2), 55, None,
    ),
    "a bare 'let me go back' after an overshoot": (
        completion(
            "25 + 6 = 31, 31 - 4 = 27. Hmm, that's not 24, we're 3 over, and 27 * 3 is far too big.\n"
            "Let me go back. What if 25 - 3 = 22? Then 22 + 6 = 28 and 28 - 4 = 24. Yes!",
            "25 - 3 + 6 - 4",
        ),
        (25, 3, 4, 6), 24, None,
    ),
    "numbered steps on separate lines": (
        completion(
            "Step 1: 25 - 3 = 22\nStep 2: 6 - 4 = 2\nStep 3: 22 + 2 = 24\nSo we reach 24 with every number once.",
            "(25 - 3) + (6 - 4)",
        ),
        (25, 3, 4, 6), 24, None,
    ),
}

UNSOUND: dict[str, Case] = {
    "false sum in a dead end": (
        completion(
            "Let's try 25 + 6 = 32. That's too big to work with.\n"
            "What if 25 - 3 = 22? Then 6 - 4 = 2, and 22 + 2 = 24.",
            "(25 - 3) + (6 - 4)",
        ),
        (25, 3, 4, 6), 24, ("25 + 6 = 32 is false", "25 + 6 = 32"),
    ),
    "false product with a unicode times": (
        completion(
            "Let's see, 15 × 4 = 64, too big to fix with 9 and 2.\n"
            "What about 9 − 4 = 5? Then 15 × 5 = 75, and 75 − 2 = 73.",
            "15 * (9 - 4) - 2",
        ),
        (15, 4, 9, 2), 73, ("15 * 4 = 64 is false", "= 64, too big"),
    ),
    "false difference with a unicode minus": (
        completion(
            "96 − 8 = 86, and 86 isn't close to 36. Let's divide instead: 96 / 8 = 12, and 12 * 3 = 36.",
            "96 / 8 * 3",
        ),
        (8, 3, 96), 36, ("96 - 8 = 86 is false", "= 86, and 86"),
    ),
    "division that is not whole": (
        completion(
            "Maybe 72 / 5 = 14 first? No, that doesn't lead anywhere. 72 / 18 = 4, and 4 * 5 = 20.",
            "72 / 18 * 5",
        ),
        (72, 18, 5), 20, ("72 / 5 = 14 is false", "72 / 5 = 14"),
    ),
    "a number used twice": (
        completion("Let's try 31 + 12 = 43. Then 43 + 12 = 55! That's the target.", "31 + 12 + 12"),
        (31, 12, 2), 55, ("never on the table together", "43 + 12 = 55"),
    ),
    "a number not in the problem": (
        completion(
            "72 / 8 = 9 is a nice number, but it doesn't lead anywhere.\n"
            "Let's try 72 / 18 = 4 instead. Then 4 * 5 = 20.",
            "72 / 18 * 5",
        ),
        (72, 18, 5), 20, ("never on the table together", "72 / 8 = 9"),
    ),
    "a consumed number reused after unicode ops": (
        completion(
            "25 × 3 = 75. Then 75 ÷ 3 = 25, which just undoes it.\n"
            "Let's try 25 − 3 = 22 and 6 − 4 = 2, so 22 + 2 = 24.",
            "(25 - 3) + (6 - 4)",
        ),
        (25, 3, 4, 6), 24, ("never on the table together", "= 25, which just undoes it"),
    ),
    "a subtracted number used again": (
        completion(
            "27 + 2 = 29, but 9 and 5 are still unused. 29 + 5 = 34, and 34 - 5 = 29. Hmm, that can't be right.",
            "27 + 2",
        ),
        (27, 9, 5, 2), 29, ("never on the table together", "34 - 5 = 29"),
    ),
    "a narrated table with a wrong number": (
        completion(
            "Let's start with 25 and 3: 25 - 3 = 22. That leaves 22, 4, and 8.\n"
            "22 + 6 = 28, and 28 - 4 = 24.",
            "25 - 3 + 6 - 4",
        ),
        (25, 3, 4, 6), 24, ("narrates [22, 4, 8]", "That leaves 22, 4, and 8."),
    ),
    "a narrated table that keeps a used number": (
        completion(
            "15 * 4 = 60. Now we have 60, 9, 2 and 4. 60 + 9 = 69, 69 + 2 = 71, and 71 is 2 too low for 73.",
            "15 * 4 + 9 + 2",
        ),
        (15, 4, 9, 2), 73, ("narrates [60, 9, 2, 4]", "Now we have 60, 9, 2 and 4."),
    ),
    "a return to numbers the problem never had": (
        completion(
            "27 * 2 = 54, 54 - 9 = 45, 45 - 5 = 40. Nope.\n"
            "Let me go back to 27, 9, 6 and 2. 9 - 5 = 4, 4 / 2 = 2, 27 + 2 = 29.",
            "27 + (9 - 5) / 2",
        ),
        (27, 9, 5, 2), 29, ("not an earlier table", "Let me go back to 27, 9, 6 and 2."),
    ),
    "an overshoot with the wrong gap": (
        completion(
            "25 + 3 = 28, and 28 - 4 = 24, but 6 is left. 24 + 6 = 30. 30 is 5 too high for 24.\n"
            "Let's try 25 - 3 = 22 and 6 - 4 = 2. 22 + 2 = 24.",
            "(25 - 3) + (6 - 4)",
        ),
        (25, 3, 4, 6), 24, ("comparison of 30 with 24 is false", "30 is 5 too high for 24."),
    ),
    "a miss claimed as the target": (
        completion("25 + 4 = 29, 29 - 6 = 23. Then 23 * 3 = 69. That is exactly 24!", "(25 + 4 - 6) * 3"),
        (25, 3, 4, 6), 24, ("comparison of 69 with 24 is false", "That is exactly 24!"),
    ),
    "an overshoot called too low": (
        completion(
            "15 * 4 = 60, 60 + 9 = 69, 69 + 2 = 71. Not quite. 9 * 2 = 18, 60 + 18 = 78. "
            "78 is 5 too low for 73.",
            "15 * 4 + 9 * 2",
        ),
        (15, 4, 9, 2), 73, ("comparison of 78 with 73 is false", "78 is 5 too low for 73."),
    ),
}


#: Sound traces the auditor flags today (auditor bugs): each must pass once the bug is fixed.
KNOWN_BUGS: dict[str, str] = {}


def sound_params() -> list[object]:
    return [
        pytest.param(*case[:3], id=name,
                     marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else [])
        for name, case in SOUND.items()
    ]


@pytest.mark.parametrize(("text", "nums", "target"), sound_params())
def test_a_sound_llm_trace_has_no_findings(text: str, nums: tuple[int, ...], target: int) -> None:
    assert [str(f) for f in lenient(text, nums, target)] == []


@pytest.mark.parametrize(("text", "nums", "target", "expected"), list(UNSOUND.values()), ids=list(UNSOUND))
def test_an_unsound_llm_trace_is_flagged_at_its_planted_error(
    text: str, nums: tuple[int, ...], target: int, expected: tuple[str, str]
) -> None:
    problem, sentence = expected
    found = lenient(text, nums, target)
    assert found, "the planted error went unnoticed"
    assert problem in found[0].problem and sentence in found[0].text, [str(f) for f in found]


def test_the_table_is_big_and_balanced() -> None:
    assert len(set(SOUND) - set(KNOWN_BUGS)) >= 12 and len(UNSOUND) >= 12
    assert all(case[3] is None for case in SOUND.values()) and all(case[3] for case in UNSOUND.values())


# --- strict mode is for our own traces ----------------------------------------------------------------------
def test_strict_mode_flags_llm_prose_it_cannot_read() -> None:
    assert lenient(SOUND_UNNARRATED_RETURN, (25, 3, 4, 6), 24) == []
    assert audit_text(SOUND_UNNARRATED_RETURN, (25, 3, 4, 6), 24, strict=True)


def llm_record(text: str, *, provider: str) -> Record:
    return Record(
        id="x-0-0", condition="backtracking", behaviors=["backtracking"], nums=[25, 3, 4, 6], target=24,
        prompt="Using 25, 3, 4, 6 make 24.", completion=text, answer="(25 - 3) + (6 - 4)", correct=True,
        behavior_counts=zero_counts(), provider=provider, model=None, seed=0, index=0, problem_id="p",
    )


def test_a_record_is_read_leniently_only_when_an_llm_wrote_it() -> None:
    assert audit_record(llm_record(SOUND_UNNARRATED_RETURN, provider="anthropic")) == []
    assert audit_record(llm_record(SOUND_UNNARRATED_RETURN, provider="symbolic"))


# --- true LLM sentences that are not simple moves: compound lines and decimals are not misread ---------------
MISREAD = [
    pytest.param(
        "Let's try (25 - 3) * 4 = 88. Way too big.", (25, 3, 4, 6), 24,
        id="bracketed compound with a bare last operand",
    ),
    pytest.param("15 * (9 - 4) - 2 = 73. That works.", (15, 4, 9, 2), 73, id="compound answer line"),
    pytest.param("25 * 3 - 4 = 71. Too big.", (25, 3, 4, 6), 24, id="left-to-right compound"),
    pytest.param("100 - 4 * 3 - 7 = 81. Done.", (100, 4, 7, 3), 81, id="compound with precedence"),
    pytest.param("75 / 4 = 18.75, not a whole number.", (75, 4, 2), 24, id="decimal result"),
    pytest.param("6 / 4 = 1.5 is not whole, so no.", (25, 3, 4, 6), 24, id="decimal result in a check"),
]


@pytest.mark.parametrize(("think", "nums", "target"), MISREAD)
def test_a_true_compound_or_decimal_equation_is_not_flagged(think: str, nums: tuple[int, ...], target: int) -> None:
    assert [str(f) for f in lenient(completion(think, "x"), nums, target)] == []
