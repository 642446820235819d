"""Exact Countdown core: problems, presets, solver, safe verifier and reward. Pure; no I/O but `io`."""

from cogbeh.countdown.enumerate import solutions, solve
from cogbeh.countdown.io import (
    load_problems,
    problem_from_row,
    problems_from_dataset,
    problems_to_dataset,
    save_problems,
)
from cogbeh.countdown.problem import (
    PRESETS,
    Preset,
    Problem,
    iter_problems,
    resolve_preset,
    sample_problems,
    take_problems,
)
from cogbeh.countdown.rules import RULES, Rules
from cogbeh.countdown.solver import is_solvable, reachable
from cogbeh.countdown.verify import (
    check,
    countdown_reward,
    evaluate,
    extract_answer,
    score,
    verl_compute_score,
)

__all__ = [
    "PRESETS",
    "RULES",
    "Preset",
    "Problem",
    "Rules",
    "check",
    "countdown_reward",
    "evaluate",
    "extract_answer",
    "is_solvable",
    "iter_problems",
    "load_problems",
    "problem_from_row",
    "problems_from_dataset",
    "problems_to_dataset",
    "reachable",
    "resolve_preset",
    "sample_problems",
    "solutions",
    "save_problems",
    "score",
    "solve",
    "take_problems",
    "verl_compute_score",
]
