"""Steps to prose: each step kind has a template in templates/traces/ with several wordings."""

from __future__ import annotations

import dataclasses
import random

from cogbeh.templating import environment
from cogbeh.traces.steps import BackwardStep, Step

#: The template each step kind is rendered with.
TEMPLATES: dict[str, str] = {
    "intro": "traces/intro.jinja",
    "move": "traces/move.jinja",
    "check": "traces/check.jinja",
    "backtrack": "traces/backtrack.jinja",
    "subgoal": "traces/subgoal.jinja",
    "backward": "traces/backward.jinja",
    "conclude": "traces/conclude.jinja",
}
TRACE_TEMPLATE = "traces/trace.jinja"


def verbalise(steps: tuple[Step, ...], answer: str, rng: random.Random, *, root: str | None = None) -> str:
    """The completion text '<think>...</think>\\n<answer>...</answer>' for `steps`, worded by `rng`."""
    env = environment(root)

    def choose(count: int) -> int:
        return rng.randrange(count)

    sentences: list[str] = []
    previous_kind = ""
    for step in steps:
        fields = {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}
        if isinstance(step, BackwardStep):
            fields["first"] = previous_kind != "backward"
        text = env.get_template(TEMPLATES[step.kind]).render(choose=choose, **fields).strip()
        # A new paragraph after each abandoned path and after the planning sentences, like a person writes.
        joiner = "\n" if previous_kind in ("backtrack", "intro") or step.kind == "conclude" else " "
        sentences.append(text if not sentences else joiner + text)
        previous_kind = step.kind
    body = "".join(sentences)
    return env.get_template(TRACE_TEMPLATE).render(body=body, answer=answer)
