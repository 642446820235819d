"""A document's final answer by rules, and a math-verify comparison with three outcomes.

math-verify's own `parse(document)` takes the *last* expression, which in a verification-rich document is the
check ("2·3 + 1 = 7 ✓"), not the answer. So the answer is extracted first, by cues in order of authority: the last
`\\boxed{...}`, then the last explicit statement ("the answer is X", "Answer: X"), then the last conclusion that
assigns a variable ("therefore x = 3"); only then is it compared.
"""

from __future__ import annotations

import logging
import re
from typing import Literal

Outcome = Literal["match", "mismatch", "cannot_check"]
OUTCOMES: tuple[Outcome, ...] = ("match", "mismatch", "cannot_check")
#: Longest answer compared: math-verify runs without its signal timeouts (they only work on the main thread),
#: so the input is bounded instead; a real final answer is far shorter.
MAX_ANSWER_CHARS = 300

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_STATED = re.compile(
    r"(?:the\s+(?:final\s+|correct\s+)?answer\s+(?:is|was|would\s+be|=)\s*:?|"
    r"(?:^|\n)\s*(?:\*\*|#+\s*)?(?:final\s+)?answer\s*(?:\*\*)?\s*[:=]\s*(?:\*\*)?)",
    re.IGNORECASE)
_CONCLUSION = re.compile(
    r"\b(?:therefore|thus|hence|so|consequently)\b[,:]?\s*(?:we\s+(?:get|have|find)\s+(?:that\s+)?)?"
    r"(?:the\s+(?:solution|value)\s+is\s+)?\$*\s*([A-Za-z](?:_\{?\w+\}?)?)\s*=\s*([^=\n]+?)\s*\$*\s*(?:[.;]\s|[.;]?$|\n)",
    re.IGNORECASE | re.MULTILINE)


def _braced(text: str, start: int) -> str | None:
    """The content of the brace group opened just before `start` (balanced), or None when it never closes.

    Escaped braces (\\{ \\}) are literal characters in LaTeX, not grouping, so they are skipped.
    """
    depth, index = 1, start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        depth += char == "{"
        depth -= char == "}"
        if depth == 0:
            return text[start:index]
        index += 1
    return None


def _boxed(text: str) -> str | None:
    for match in reversed(list(_BOXED.finditer(text))):
        content = _braced(text, match.end())
        if content is not None and content.strip():
            return content.strip()
    return None


def _clean(answer: str) -> str | None:
    """Trim a stated answer to its first line and drop trailing prose punctuation and markup."""
    line = answer.strip().split("\n", 1)[0].strip()
    line = re.sub(r"^\*\*|\*\*$", "", line).strip()
    line = re.sub(r"(?<=[^.])\.(\s.*)?$", "", line).strip()  # a sentence ends: keep what precedes it
    line = line.rstrip(" ,;:")
    return line or None


def _stated(text: str) -> str | None:
    matches = list(_STATED.finditer(text))
    for match in reversed(matches):
        found = _clean(text[match.end():match.end() + 400])
        if found:
            inner = _boxed(found)
            return inner if inner is not None else found
    return None


def _concluded(text: str) -> str | None:
    matches = list(_CONCLUSION.finditer(text))
    if not matches:
        return None
    variable, value = matches[-1].group(1), matches[-1].group(2).strip().rstrip(".,;$ ")
    return f"{variable} = {value}" if value else None


def final_answer(document: str) -> str | None:
    """The document's final answer, or None when no rule finds one (the check then says cannot_check)."""
    for rule in (_boxed, _stated, _concluded):
        found = rule(document)
        if found:
            return found
    return None


def _parse(text: str) -> list[object]:
    from math_verify import parse

    parsed = parse(text, parsing_timeout=None)
    if not parsed and "\\" in text and "$" not in text:  # bare LaTeX (\frac12) is read only between delimiters
        parsed = parse(f"${text}$", parsing_timeout=None)
    return parsed


def compare(gold: str | None, candidate: str | None) -> Outcome:
    """math-verify's verdict on `candidate` against `gold` (gold first: verify is asymmetric).

    cannot_check when either side is missing, too long to bound, or does not parse.
    """
    if not gold or not candidate or not gold.strip() or not candidate.strip():
        return "cannot_check"
    if len(gold) > MAX_ANSWER_CHARS or len(candidate) > MAX_ANSWER_CHARS:
        return "cannot_check"
    from math_verify import verify

    # Without timeouts math-verify warns on every call; the bound above is our guard.
    for name in ("math_verify", "latex2sympy2_extended"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        parsed_gold, parsed_candidate = _parse(gold), _parse(candidate)
        if not parsed_gold or not parsed_candidate:
            return "cannot_check"
        return "match" if verify(parsed_gold, parsed_candidate, timeout_seconds=None) else "mismatch"
    except Exception:  # sympy raises many types on odd input; an answer we cannot read is not a mismatch
        return "cannot_check"
