"""Checks a rewrite must pass before it is kept: its question is in the document, its thoughts show (rich) or
lack (minimal) the behaviors, and its answer agrees with the document's.

Answer policy (`--answer-check`): `lenient` (default) keeps a rewrite whose answer matches or cannot be checked
(no extractable answer in the document, or an answer math-verify cannot read — common in proofs and prose) and
rejects a mismatch; `strict` keeps only a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.answers import Outcome, compare, final_answer

Style = Literal["rich", "minimal"]
STYLES: tuple[Style, ...] = ("rich", "minimal")
AnswerPolicy = Literal["strict", "lenient"]
ANSWER_POLICIES: tuple[AnswerPolicy, ...] = ("strict", "lenient")
#: rapidfuzz partial_ratio (0-100) the normalised question must reach inside the normalised document.
QUESTION_THRESHOLD = 85.0
#: Outcomes each policy keeps.
KEEPS: dict[str, tuple[Outcome, ...]] = {"lenient": ("match", "cannot_check"), "strict": ("match",)}


@dataclass(frozen=True)
class CheckResult:
    """The three checks of one rewrite; `reasons` lists each failure (empty when the rewrite is kept)."""

    question_score: float
    behaviors: dict[str, int]
    behaviors_ok: bool
    answer: Outcome
    document_answer: str | None
    reasons: tuple[str, ...] = field(default=())

    @property
    def kept(self) -> bool:
        """True when every check passed."""
        return not self.reasons

    def to_json(self) -> dict[str, Any]:
        """The `checks` column of an output row."""
        return {"question": round(self.question_score, 2), "behaviors": dict(self.behaviors),
                "behaviors_ok": self.behaviors_ok, "answer": self.answer, "document_answer": self.document_answer}


def normalise(text: str) -> str:
    """Compatibility-folded, lower-case text without math delimiters or markup, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\\[()\[\]]|\$+|\*\*|__|`", " ", text)
    return " ".join(text.split())


def question_score(question: str, document: str) -> float:
    """How well `question` appears inside `document` (rapidfuzz partial_ratio, 0-100, on normalised text)."""
    from rapidfuzz import fuzz

    wanted, within = normalise(question), normalise(document)
    if not wanted or not within:
        return 0.0
    return float(fuzz.partial_ratio(wanted, within))


def _default_label(text: str) -> dict[str, int]:
    from cogbeh.curate.rules import label_text

    return dict(label_text(text).counts)


def check_rewrite(document: str, rewritten: Any, style: Style, *, threshold: float = QUESTION_THRESHOLD,
                  answer_check: AnswerPolicy = "lenient",
                  label: Callable[[str], dict[str, int]] | None = None) -> CheckResult:
    """Run the three checks on `rewritten` (anything with question, thoughts, answer) of `document`.

    `label` maps text to behavior counts (default: the rule classifier, cogbeh.curate.rules.label_text).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    if answer_check not in KEEPS:
        raise ValueError(f"--answer-check must be one of {', '.join(ANSWER_POLICIES)}, got {answer_check!r}")
    reasons: list[str] = []
    question, thoughts, answer = (str(getattr(rewritten, name, "") or "") for name in ("question", "thoughts",
                                                                                      "answer"))
    score = question_score(question, document)
    if not question.strip():
        reasons.append("question: the rewrite has no question")
    elif score < threshold:
        reasons.append(f"question: not found in the document (match {score:.0f} < {threshold:g})")
    counts = (label or _default_label)(thoughts)
    shown = {b: int(counts.get(b, 0)) for b in BEHAVIORS}
    behaviors_ok = any(shown.values()) if style == "rich" else not any(shown.values())
    if not behaviors_ok:
        reasons.append("behaviors: rich thoughts show none of the four behaviors" if style == "rich" else
                       "behaviors: minimal thoughts show " + ", ".join(f"{b} ({n})" for b, n in shown.items() if n))
    gold = final_answer(document)
    candidate = final_answer(answer) or answer.strip()  # "The answer is \boxed{3}." -> "3"
    outcome = compare(gold, candidate)
    if outcome not in KEEPS[answer_check]:
        reasons.append(_answer_reason(outcome, gold, candidate))
    return CheckResult(question_score=score, behaviors=shown, behaviors_ok=behaviors_ok, answer=outcome,
                       document_answer=gold, reasons=tuple(reasons))


def _answer_reason(outcome: Outcome, gold: str | None, candidate: str) -> str:
    if outcome == "mismatch":
        return f"answer: {candidate[:60]!r} does not match the document's {gold!r}"
    if gold is None:
        return "answer: cannot check (the document has no extractable final answer; --answer-check strict)"
    return f"answer: cannot check {candidate[:60]!r} against {gold!r} (--answer-check strict)"
