"""Symbolic trace synthesis: a real search produces typed steps; templates put them into words."""

from __future__ import annotations

import random
from dataclasses import dataclass

from cogbeh.countdown import Problem
from cogbeh.traces.planner import NoTrace, Shape, plan
from cogbeh.traces.steps import Step
from cogbeh.traces.verbalise import verbalise

__all__ = ["NoTrace", "Shape", "Trace", "synthesize"]


@dataclass(frozen=True)
class Trace:
    """A completion, the expression it answers with, and the typed steps it was rendered from."""

    text: str
    answer: str
    answer_value: int
    steps: tuple[Step, ...] = ()


def synthesize(problem: Problem, shape: Shape, rng: random.Random, *, template_root: str | None = None) -> Trace:
    """One trace for `problem` showing exactly the behaviors in `shape` (raises NoTrace if it cannot)."""
    laid_out = plan(problem, shape, rng)
    text = verbalise(laid_out.steps, laid_out.answer, rng, root=template_root)
    return Trace(text, laid_out.answer, laid_out.answer_value, laid_out.steps)
