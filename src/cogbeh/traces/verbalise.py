"""Steps to prose: each step kind has a macro in templates/traces/ with several wordings."""

from __future__ import annotations

import random

from cogbeh.templating import environment
from cogbeh.traces.steps import Step

TRACE_TEMPLATE = "traces/trace.jinja"


def _joiner(previous_kind: str, kind: str) -> str:
    # A new paragraph after the problem statement, after each abandoned path, and for the conclusion.
    if not previous_kind:
        return ""
    return "\n" if previous_kind in ("backtrack", "intro") or kind == "conclude" else " "


def verbalise(steps: tuple[Step, ...], answer: str, rng: random.Random, *, root: str | None = None) -> str:
    """The completion text '<think>...</think>\\n<answer>...</answer>' for `steps`, worded by `rng`."""

    def choose(count: int) -> int:
        return rng.randrange(count)

    items, previous = [], ""
    for step in steps:
        # Backward steps word the first link of a chain differently from the ones after it.
        first = step.kind == "backward" and previous != "backward"
        items.append({"step": step, "joiner": _joiner(previous, step.kind), "first": first or getattr(step, "first", False)})
        previous = step.kind
    return environment(root).get_template(TRACE_TEMPLATE).render(items=items, answer=answer, choose=choose)
