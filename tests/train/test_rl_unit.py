"""GRPO helpers that need no model: format reward, disjointness check."""

from __future__ import annotations

import pytest

from cogbeh.countdown import Problem
from cogbeh.train.rl import OverlapError, check_disjoint, format_reward


def test_format_reward_accepts_one_closed_think_then_one_answer() -> None:
    good = [
        "reasoning</think>\n<answer>1 + 2</answer>",
        "<think>x</think><answer>3</answer>\n",
        [{"role": "assistant", "content": "<think>x</think> <answer>3</answer>"}],
    ]
    bad = [
        "<answer>3</answer>",
        "x</think><answer>3</answer> trailing",
        "x</think><answer>3",
        "",
        "x</think><answer>1</answer><answer>2</answer>",
        None,
    ]
    assert format_reward(good) == [1.0, 1.0, 1.0]
    assert format_reward(bad) == [0.0] * len(bad)


def test_overlap_between_rl_and_priming_problems_is_refused() -> None:
    priming = [Problem((1, 2, 3), 6), Problem((4, 5, 6), 26)]
    check_disjoint([Problem((1, 2, 4), 7)], priming)
    with pytest.raises(OverlapError, match="1 RL problem.*1-2-3_6"):
        check_disjoint([Problem((3, 2, 1), 6), Problem((1, 2, 4), 7)], priming)
