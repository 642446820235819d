"""The TRL reward and `score` agree, completion by completion, on 10^4 random completions."""

from __future__ import annotations

import random

from cogbeh.countdown import countdown_reward, sample_problems, score, solve

HOSTILE = [
    "9**9**9**9",
    "1.5*6",
    "2//1",
    "__import__('os')",
    "(" * 80 + "1" + ")" * 80,
    "1e9",
    "٣+1",
    "",
    "  ",
]


def _completion(rng: random.Random, nums: list[int], target: int, solution: str) -> object:
    body = rng.choice(
        [
            solution,
            solution.replace("+", "-", 1),
            " ".join(str(n) for n in nums),
            "+".join(str(n) for n in nums),
            "*".join(str(n) for n in reversed(nums)),
            rng.choice(HOSTILE),
            f"{solution} = {target}",
        ]
    )
    text = rng.choice(
        [
            f"<think>try</think>\n<answer>{body}</answer>",
            f"<answer>{body}</answer>",
            f"<answer>wrong</answer> then <answer>{body}</answer>",
            f"<answer>{body}",
            f"{body}</answer>",
            body,
            f"<think>{body}</think>",
        ]
    )
    if rng.random() < 0.2:  # TRL conversational completions are message lists
        return [{"role": "assistant", "content": text}]
    return text


def test_reward_and_score_agree_on_ten_thousand_completions() -> None:
    rng = random.Random(0)
    problems = sample_problems(200, preset="tinyzero", seed=11)
    solutions = {p.id: solve(p.nums, p.target, limit=1)[0] for p in problems}
    completions, nums, targets = [], [], []
    for _ in range(10_000):
        problem = rng.choice(problems)
        completions.append(_completion(rng, list(problem.nums), problem.target, solutions[problem.id]))
        nums.append(list(problem.nums))
        targets.append(problem.target)
    rewards = countdown_reward(
        completions, nums, targets, prompts=["p"] * len(completions), trainer_state=None
    )
    expected = [score(c, n, t) for c, n, t in zip(completions, nums, targets, strict=True)]
    agree = sum(r == e for r, e in zip(rewards, expected, strict=True))
    assert agree == 10_000
    assert {0.0, 0.1, 1.0} <= set(rewards)  # all three outcomes occur, so agreement is not vacuous
