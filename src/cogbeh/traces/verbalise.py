"""Steps to prose: each step kind has a macro in templates/traces/ with several wordings."""

from __future__ import annotations

import random
from functools import lru_cache

from cogbeh.templating import environment
from cogbeh.traces.steps import Step

TRACE_TEMPLATE = "traces/trace.jinja"
#: One macro file per step kind; each defines `say(step, choose, first)`.
KINDS = ("intro", "move", "check", "backtrack", "subgoal", "backward", "settle", "conclude")


@lru_cache(maxsize=8)
def _wordings(root: str | None) -> dict[str, object]:
    # The macro modules are built once per environment: an {% import %} in trace.jinja would rebuild all eight
    # on every render.
    env = environment(root)
    return {kind: env.get_template(f"traces/{kind}.jinja").module for kind in KINDS}


def _joiner(previous_kind: str, kind: str) -> str:
    # A new paragraph after the problem statement, after each abandoned path, and for the conclusion.
    if not previous_kind:
        return ""
    return "\n" if previous_kind in ("backtrack", "intro") or kind == "conclude" else " "


def _fields(step: Step) -> dict[str, object]:
    # Plain dicts: a sandbox (--template-dir) vets every attribute read on an object, not on a dict.
    fields = dict(vars(step))
    if step.kind == "backward":
        fields.update(inverse=step.inverse, forward=step.forward)
    return fields


def verbalise(steps: tuple[Step, ...], answer: str, rng: random.Random, *, root: str | None = None) -> str:
    """The completion text '<think>...</think>\\n<answer>...</answer>' for `steps`, worded by `rng`."""

    def choose(count: int) -> int:
        return rng.randrange(count)

    items, previous = [], ""
    for step in steps:
        # Backward steps word the first link of a chain differently from the ones after it.
        first = step.kind == "backward" and previous != "backward"
        items.append({"step": _fields(step), "joiner": _joiner(previous, step.kind),
                      "first": first or getattr(step, "first", False)})
        previous = step.kind
    template = environment(root).get_template(TRACE_TEMPLATE)
    return template.render(items=items, answer=answer, choose=choose, wording=_wordings(root))
