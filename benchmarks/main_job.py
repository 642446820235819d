"""The main job end to end, with baselines measured in the same run.

1. `cogbeh-gen --behavior backtracking -n 1000`, whole process (start-up included), against the naive W1
   sampler (1000 tinyzero-distribution problems, rejection + first-solution DFS) — acceptance: ≤ 0.5×.
2. Throughput with --workers 2 against --workers 1 on 10^4 records — acceptance: ≥ 1.7×.

    python benchmarks/main_job.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cogbeh.behaviors import parse_condition
from cogbeh.pipeline import JobConfig, run


def _dfs(nums: list[int], target: int) -> bool:
    if len(nums) == 1:
        return nums[0] == target
    for i, a in enumerate(nums):
        for j, b in enumerate(nums):
            if i == j:
                continue
            rest = [n for k, n in enumerate(nums) if k not in (i, j)]
            results = [a + b, a * b] + ([a - b] if a >= b else []) + ([a // b] if b and a % b == 0 else [])
            if any(_dfs([*rest, r], target) for r in results):
                return True
    return False


def naive_w1(n: int, seed: int = 0) -> float:
    """Seconds for the naive sampler: size 3 or 4, nums 1..99, target 10..100, reject until DFS solves it."""
    began = time.perf_counter()
    rng = random.Random(seed)
    for _ in range(n):
        size = rng.choice((3, 4))
        while not _dfs([rng.randint(1, 99) for _ in range(size)], rng.randint(10, 100)):
            pass
    return time.perf_counter() - began


def main_job_seconds(n: int, folder: Path, *extra: str) -> float:
    """Wall time of the real console command, as a user runs it (default workers unless `extra` says)."""
    command = [
        sys.executable,
        "-m",
        "cogbeh.cli.main",
        "--behavior",
        "backtracking",
        "-n",
        str(n),
        "--out",
        str(folder),
        "--overwrite",
        "-q",
        *extra,
    ]
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def workers_seconds(n: int, workers: int, folder: Path) -> float:
    """Seconds for `n` records of the `all` condition with `workers` processes."""
    config = JobConfig(behaviors=parse_condition("all"), n=n, out=folder, workers=workers, overwrite=True)
    began = time.perf_counter()
    run(config)
    return time.perf_counter() - began


def main() -> None:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    n_job, n_workers, repeats = (100, 500, 1) if args.quick else (1000, 10_000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        ours = min(main_job_seconds(n_job, Path(tmp) / "job") for _ in range(repeats))
        single = min(main_job_seconds(n_job, Path(tmp) / "job1", "--workers", "1") for _ in range(repeats))
        baseline = min(naive_w1(n_job) for _ in range(repeats))
        print(
            f"main job, {n_job} backtracking records (whole process) | ours {ours:.2f} s (default workers), "
            f"{single:.2f} s (--workers 1) | naive W1 sampler {baseline:.2f} s | ratio {ours / baseline:.2f} "
            f"(target <= 0.50; and <= 1.5 s)"
        )
        one = workers_seconds(n_workers, 1, Path(tmp) / "w1")
        two = workers_seconds(n_workers, 2, Path(tmp) / "w2")
        same = (Path(tmp) / "w1" / "records.jsonl").read_bytes() == (
            Path(tmp) / "w2" / "records.jsonl"
        ).read_bytes()
        print(
            f"{n_workers} 'all' records | 1 worker {one:.2f} s | 2 workers {two:.2f} s | "
            f"speed-up {one / two:.2f}x (target >= 1.7) | identical bytes: {same}"
        )


if __name__ == "__main__":
    main()
