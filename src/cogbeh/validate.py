"""Acceptance checks for any trace, ours or an LLM's: format, arithmetic, answer, behaviors present/absent."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS
from cogbeh.countdown import Problem, check, evaluate, extract_answer

#: Traces longer than this are rejected as runaway (a 4-number trace with 8 backtracks is ~3,500 characters).
MAX_TRACE_CHARS = 8000

_FORMAT = re.compile(r"\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*", re.DOTALL)
_SPAN = r"[0-9 ()+\-*/×÷−]"
_STATEMENT = re.compile(rf"({_SPAN}+)=(?=({_SPAN}+))")
_UNICODE_OPS = str.maketrans({"×": "*", "÷": "/", "−": "-"})

Counter = Callable[[str], dict[str, int]]


@dataclass(frozen=True)
class Assessment:
    """What the checks found; `reason` is None when the trace is accepted."""

    answer: str | None
    correct: bool
    counts: dict[str, int]
    reason: str | None


def think_block(text: str) -> str | None:
    """The content of a well-formed '<think>...</think><answer>...</answer>' completion, else None."""
    match = _FORMAT.fullmatch(text)
    return match.group(1) if match else None


def _side(span: str) -> str:
    # Trim what belongs to the surrounding prose: unbalanced parentheses, a sentence's full stop.
    text = span.translate(_UNICODE_OPS).strip().rstrip(".").strip()
    while text.count("(") > text.count(")") and text.startswith("("):
        text = text[1:].strip()
    while text.count(")") > text.count("(") and text.endswith(")"):
        text = text[:-1].strip()
    return text


def false_statements(text: str) -> list[str]:
    """Every 'expression = expression' in `text` whose two sides both parse but differ."""
    wrong = []
    for match in _STATEMENT.finditer(text):
        left, right = _side(match.group(1)), _side(match.group(2))
        a, b = evaluate(left), evaluate(right)
        if a is not None and b is not None and a != b:
            wrong.append(f"{left} = {right}")
    return wrong


def assess(
    problem: Problem,
    completion: str,
    behaviors: frozenset[str],
    *,
    count: Counter,
    behavior_filter: bool = True,
    expect_correct: bool | None = True,
    arithmetic_check: bool = True,
) -> Assessment:
    """Check one completion. `expect_correct`: True (must check), False (must not), None (either).

    `arithmetic_check=False` keeps traces with false statements (an LLM's slips), as the paper kept them.
    """
    answer = extract_answer(completion)
    correct = answer is not None and check(answer, problem.nums, problem.target)
    think = think_block(completion)
    counts = count(think if think is not None else completion)
    reason = _first_failure(completion, think, answer, correct, counts, behaviors, behavior_filter, expect_correct,
                            arithmetic_check)
    return Assessment(answer, correct, counts, reason)


def _first_failure(
    completion: str,
    think: str | None,
    answer: str | None,
    correct: bool,
    counts: dict[str, int],
    behaviors: frozenset[str],
    behavior_filter: bool,
    expect_correct: bool | None,
    arithmetic_check: bool,
) -> str | None:
    if think is None or answer is None:
        return "format: needs <think>...</think> then <answer>...</answer>"
    if len(completion) > MAX_TRACE_CHARS:
        return f"too_long: over {MAX_TRACE_CHARS} characters"
    wrong = false_statements(think) if arithmetic_check else []
    if wrong:
        return f"arithmetic: {wrong[0]}"
    if expect_correct is True and not correct:
        return "answer: does not check"
    if expect_correct is False and correct:
        return "answer: correct where an incorrect one was asked for"
    if behavior_filter:
        for behavior in BEHAVIORS:
            if behavior in behaviors and counts.get(behavior, 0) == 0:
                return f"missing: {behavior}"
            if behavior not in behaviors and counts.get(behavior, 0) > 0:
                return f"unwanted: {behavior}"
    return None
