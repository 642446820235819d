"""The trace auditor: replay every sentence of a trace over the numbers really on the table.

`audit_text` reads any completion (ours strictly, an LLM's leniently); `audit_record` picks the right check
for a record, controls included; `audit_plan` also holds rendered text to the typed steps it came from, which
the pipeline runs on every symbolic record before accepting it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cogbeh.audit.parse import Said, read
from cogbeh.audit.replay import Finding, Replay
from cogbeh.records import Record
from cogbeh.traces.steps import Step
from cogbeh.validate import false_statements, think_block

__all__ = ["Finding", "audit_plan", "audit_record", "audit_text"]


def audit_text(
    completion: str,
    nums: Sequence[int],
    target: int,
    *,
    strict: bool,
    incorrect: bool | None = None,
    min_backtracks: int = 0,
    reasons: bool = True,
) -> list[Finding]:
    """Findings for one completion; `incorrect` None when the trace may end either way; `reasons` False when the
    plans that explain its dead ends were stripped from the text (the cue_stripped control)."""
    think = think_block(completion)
    if think is None:
        return [_malformed(completion)]
    return _replay(read(think, layout=strict), completion, nums, target, strict=strict, incorrect=incorrect,
                   min_backtracks=min_backtracks, reasons=reasons)


def _malformed(completion: str) -> Finding:
    return Finding(0, "not a '<think>...</think><answer>...</answer>' completion", completion[:80])


def _replay(claims: list[Said], completion: str, nums: Sequence[int], target: int, *, strict: bool,
            incorrect: bool | None, min_backtracks: int, reasons: bool) -> list[Finding]:
    from cogbeh.countdown import extract_answer

    replay = Replay(tuple(nums), target, strict=strict, incorrect=incorrect, reasons=reasons)
    findings = replay.run(claims, answer=extract_answer(completion) if strict else None)
    if strict and replay.backtracks < min_backtracks:
        findings.append(Finding(0, f"{replay.backtracks} return(s) to an earlier table, {min_backtracks} asked for", ""))
    return findings


def _signature(said: list[Said]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    last_result = None
    for s in said:
        if s.kind == "move":
            last_result = s.equation[3]  # type: ignore[index]
            out.append(("move", *s.equation))  # type: ignore[misc]
        elif s.kind == "check":
            out.append(("check", s.value if s.value is not None else last_result, s.goal))
        elif s.kind in ("return", "subgoal", "backward"):
            out.append((s.kind, s.value, tuple(sorted(s.values or ()))))
        elif s.kind in ("drop", "settle"):
            out.append((s.kind, s.value))
        elif s.kind in ("intro", "conclude"):
            out.append((s.kind,))
    return out


def _step_signature(steps: Sequence[Step]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for step in steps:
        if step.kind == "move":
            out.append(("move", step.left, step.op, step.right, step.result))
        elif step.kind == "check":
            out.append(("check", step.value, step.goal))
        elif step.kind == "backtrack":
            if step.dropped is not None:
                out.append(("drop", step.dropped))
            out.append(("return", None, tuple(sorted(step.state))))
        elif step.kind == "subgoal":
            out.append(("subgoal", step.value, tuple(sorted(step.pool))))
        elif step.kind == "backward":
            out.append(("backward", step.needed, tuple(sorted(step.pool))))
        elif step.kind == "settle":
            out.append(("settle", step.instead))
        else:
            out.append((step.kind,))
    return out


def audit_plan(steps: Sequence[Step], completion: str, nums: Sequence[int], target: int, *, incorrect: bool,
               min_backtracks: int) -> list[Finding]:
    """`audit_text`, plus: the text says exactly the steps it was rendered from, in order."""
    think = think_block(completion)
    if think is None:
        return [_malformed(completion)]
    claims = read(think)
    findings = _replay(claims, completion, nums, target, strict=True, incorrect=incorrect,
                       min_backtracks=min_backtracks, reasons=True)
    said = _signature(claims)
    meant = _step_signature(steps)
    if said != meant:
        first = next((i for i, (a, b) in enumerate(zip(said, meant, strict=False)) if a != b), min(len(said), len(meant)))
        findings.append(Finding(first, f"the text reads as {said[first:first + 1]}, the step was {meant[first:first + 1]}", ""))
    return findings


def audit_record(record: Record, *, min_backtracks: int = 0) -> list[Finding]:
    """Findings for a record, by what it is: a trace (ours strictly, an LLM's leniently) or a control."""
    control = record.control
    if control in (None, "incorrect_only", "cue_stripped"):
        incorrect = None if record.provider != "symbolic" else not record.correct
        return audit_text(record.completion, record.nums, record.target, strict=record.provider == "symbolic",
                          incorrect=incorrect, min_backtracks=min_backtracks if control is None else 0,
                          reasons=control != "cue_stripped")
    think = think_block(record.completion)
    if think is None:
        return [_malformed(record.completion)]
    if control == "empty_cot":
        return [] if not think.strip() else [Finding(0, "empty_cot with a non-empty think block", think[:80])]
    if control == "length_matched":
        pieces = set(think.split())
        return [] if len(pieces) <= 1 else [Finding(0, "length_matched think holds more than its placeholder", think[:80])]
    if control == "shuffled_steps":  # order is what this control destroys; each statement must still be true
        return [Finding(0, f"false arithmetic: {wrong}", "") for wrong in false_statements(think)]
    return [Finding(0, f"unknown control {control!r}", "")]
