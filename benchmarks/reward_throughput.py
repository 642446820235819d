"""Reward throughput: `countdown_reward` completions/s vs a plain-regex baseline, on the same completions.

The baseline does what TinyZero's scorer does before its `eval`: regex out the last answer, check its
characters and numbers. It cannot compute a value (that needs `eval`): it is a floor on the work, not a rival.
Usage: python benchmarks/reward_throughput.py [-n 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable, Sequence

from cogbeh.countdown import countdown_reward, sample_problems, solve

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)
_CHARS = re.compile(r"^[\d+\-*/().\s]+$")


def regex_baseline(
    completions: Sequence[str], nums: Sequence[Sequence[int]], target: Sequence[int]
) -> list[float]:
    """TinyZero's pre-eval checks: last answer by regex, allowed characters, same numbers."""
    out = []
    for completion, numbers, _ in zip(completions, nums, target, strict=True):
        found = _ANSWER.findall(completion)
        if not found:
            out.append(0.0)
            continue
        answer = found[-1]
        ok = bool(_CHARS.match(answer)) and sorted(int(n) for n in re.findall(r"\d+", answer)) == sorted(
            numbers
        )
        out.append(1.0 if ok else 0.1)
    return out


def workload(n: int, seed: int) -> tuple[list[str], list[list[int]], list[int]]:
    """Model-like completions (~800-char reasoning, then an answer): right, wrong, and untagged."""
    rng = random.Random(seed)
    problems = sample_problems(500, preset="tinyzero", seed=seed)
    solutions = {p.id: solve(p.nums, p.target, limit=1)[0] for p in problems}
    filler = "Try 25 + 30 = 55, which is too big; go back and try 30 - 25 = 5, then 5 * 4 = 20. " * 9
    completions, nums, targets = [], [], []
    for _ in range(n):
        problem = rng.choice(problems)
        answer = rng.choice([solutions[problem.id], " + ".join(map(str, problem.nums)), None])
        tail = f"</think>\n<answer>{answer}</answer>" if answer else "</think>\nI could not finish."
        completions.append(filler + tail)
        nums.append(list(problem.nums))
        targets.append(problem.target)
    return completions, nums, targets


def rate(func: Callable[..., list[float]], args: tuple, repeats: int = 3) -> float:
    """Best-of-`repeats` completions per second."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - start)
    return len(args[0]) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    args = workload(options.n, options.seed)
    ours, baseline = rate(countdown_reward, args), rate(regex_baseline, args)
    print(f"{'scorer':<34}{'completions/s':>16}")
    print(f"{'countdown_reward (exact, safe)':<34}{ours:>16,.0f}")
    print(f"{'plain-regex baseline (no value)':<34}{baseline:>16,.0f}")
    print(f"{'ratio ours / baseline':<34}{ours / baseline:>16.2f}")


if __name__ == "__main__":
    main()
