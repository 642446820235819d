"""Countdown core benchmarks (DESIGN §6, issue 2): W1 sampling, W3 classic deciding, W4 verifying.

Each workload prints our figure, a baseline written here and measured in the same run, and their ratio.
Our solver's caches are cleared before every timed repeat, so no repeat profits from an earlier one.
Run `python benchmarks/countdown.py` (about a minute) or `--quick` for a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # workloads.py sits next to this script

# The solver imports numpy lazily; importing it here keeps that one-time cost out of every timing.
import numpy  # noqa: E402, F401

from cogbeh.countdown import Problem, check, is_solvable, reachable, sample_problems  # noqa: E402
from cogbeh.countdown import solver as _solver  # noqa: E402
from workloads import load_w3, load_w4  # noqa: E402

Row = tuple[str, str, str, str, str]  # measure, ours, baseline, ratio, acceptance


def clear_caches() -> None:
    """Empty every memo in the solver so that a timed repeat starts cold."""
    for value in vars(_solver).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time (s) of `repeats` cold runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        clear_caches()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_table(title: str, rows: list[Row]) -> None:
    """One workload's table."""
    header: Row = ("measure", "ours", "baseline", "ratio", "acceptance")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    print(f"\n{title}")
    for row in (header, *rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


# --- W1: sampling solvable problems ---------------------------------------------------------------------


def naive_first_solution(items: list[tuple[int, str]], target: int) -> str | None:
    """Depth-first search over unordered pairs under integer rules; the first expression making `target`."""
    if len(items) == 1:
        return items[0][1] if items[0][0] == target else None
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            (a, ea), (b, eb) = items[i], items[j]
            rest = items[:i] + items[i + 1 : j] + items[j + 1 :]
            moves = [(a + b, f"({ea} + {eb})"), (a * b, f"{ea} * {eb}")]
            moves.append((a - b, f"({ea} - {eb})") if a >= b else (b - a, f"({eb} - {ea})"))
            if b and a % b == 0:
                moves.append((a // b, f"{ea} / {eb}"))
            if a and b % a == 0:
                moves.append((b // a, f"{eb} / {ea}"))
            for value, text in moves:
                found = naive_first_solution([*rest, (value, text)], target)
                if found is not None:
                    return found
    return None


def textbook_first_solution(items: list[tuple[int, str]], target: int) -> str | None:
    """The textbook DFS: every ordered pair, all four operators, illegal results skipped."""
    if len(items) == 1:
        return items[0][1] if items[0][0] == target else None
    for i, (a, ea) in enumerate(items):
        for j, (b, eb) in enumerate(items):
            if i == j:
                continue
            rest = [item for k, item in enumerate(items) if k not in (i, j)]
            for op in "+-*/":
                if op == "/" and (b == 0 or a % b):
                    continue
                value = a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a // b
                if value >= 0:
                    found = textbook_first_solution([*rest, (value, f"({ea} {op} {eb})")], target)
                    if found is not None:
                        return found
    return None


Search = Callable[[list[tuple[int, str]], int], str | None]


def naive_sample(n: int, seed: int, search: Search = naive_first_solution) -> list[Problem]:
    """Rejection sampler: tinyzero's distribution, redrawn until `search` finds a solution; no duplicates."""
    rng, seen, out = random.Random(seed), set(), []
    while len(out) < n:
        size = rng.choice((3, 4))  # drawn once per problem, as in `sample_problems`
        while True:
            nums = [rng.randint(1, 99) for _ in range(size)]
            target = rng.randint(10, 100)
            key = (tuple(sorted(nums)), target)
            if key not in seen and search([(x, str(x)) for x in nums], target) is not None:
                break
        seen.add(key)
        out.append(Problem(tuple(nums), target))
    return out


def bench_w1(n: int, repeats: int) -> list[Row]:
    """W1: n tinyzero problems solvable under integer rules, vs the naive sampler and a stronger variant.

    The acceptance baseline is the naive sampler the issue describes (rejection + textbook first-solution DFS
    over ordered pairs, 2.5-6 s here); a DFS over unordered pairs is printed too, so the margin against a
    less naive search is on record.
    """
    ours, mine = best_of(repeats, lambda: sample_problems(n, preset="tinyzero", seed=0))
    slow, theirs = best_of(1, lambda: naive_sample(n, seed=0, search=textbook_first_solution))
    base, _ = best_of(repeats, lambda: naive_sample(n, seed=0))
    ok = [all(is_solvable(p.nums, p.target, rules="integer") for p in ps) for ps in (mine, theirs)]
    share = [sum(len(p.nums) == 4 for p in ps) / n for ps in (mine, theirs)]
    ratio = ours / slow
    return [
        (
            "time vs naive sampler (textbook DFS, ordered pairs), 1 run (s)",
            f"{ours:.3f}",
            f"{slow:.3f}",
            f"{ratio:.3f}",
            f"<= 0.12 {verdict(ratio <= 0.12)}",
        ),
        (
            f"time vs stronger DFS over unordered pairs, best of {repeats} (s)",
            f"{ours:.3f}",
            f"{base:.3f}",
            f"{ours / base:.3f}",
            "(informative)",
        ),
        ("all solvable (integer)", str(ok[0]), str(ok[1]), "", ""),
        ("share with 4 numbers", f"{share[0]:.2f}", f"{share[1]:.2f}", "", ""),
    ]


# --- W3: classic 6-tile problems, decided and all reachable values -------------------------------------


def exhaustive_classic(nums: tuple[int, ...]) -> set[int]:
    """Every value any subset of the tiles can make with positive integer intermediates (bitmask DP)."""
    size = len(nums)
    values: list[set[int]] = [set() for _ in range(1 << size)]
    for i, x in enumerate(nums):
        values[1 << i] = {x}
    for mask in range(1, 1 << size):
        if mask & (mask - 1) == 0:
            continue
        out: set[int] = set()
        low, sub = mask & -mask, (mask - 1) & mask
        while sub:
            if sub & low:  # each unordered split once
                for a in values[sub]:
                    for b in values[mask ^ sub]:
                        out.add(a + b)
                        out.add(a * b)
                        if a != b:
                            out.add(abs(a - b))
                        if a % b == 0:
                            out.add(a // b)
                        if b % a == 0:
                            out.add(b // a)
            sub = (sub - 1) & mask
        values[mask] = out
    return set().union(*values[1:])


def bench_w3(problems: list[Problem], repeats: int) -> list[Row]:
    """W3: decide each problem and compute its reachable set, ours vs the exhaustive DP."""

    def ours_run() -> list[tuple[bool, set]]:
        return [
            (is_solvable(p.nums, p.target, rules="classic"), reachable(p.nums, rules="classic"))
            for p in problems
        ]

    def base_run() -> list[tuple[bool, set]]:
        out = []
        for p in problems:
            values = exhaustive_classic(p.nums)
            out.append((p.target in values, values))
        return out

    decide, _ = best_of(repeats, lambda: [is_solvable(p.nums, p.target, rules="classic") for p in problems])
    ours, mine = best_of(repeats, ours_run)
    base, theirs = best_of(repeats, base_run)
    agree = sum(m == t for m, t in zip(mine, theirs, strict=True)) / len(problems)
    solvable = sum(s for s, _ in mine)
    bound = 1.0 * len(problems) / 100
    return [
        (
            f"decide only, best of {repeats} (s)",
            f"{decide:.3f}",
            f"{base:.3f}",
            f"{decide / base:.3f}",
            f"<= {bound:.2f} s {verdict(decide <= bound)}",
        ),
        (
            f"decide + all reachable, best of {repeats} (s)",
            f"{ours:.3f}",
            f"{base:.3f}",
            f"{ours / base:.3f}",
            f"<= {bound:.2f} s {verdict(ours <= bound)}",
        ),
        ("agreement (decision and set)", f"{agree:.0%}", "", "", f"100% {verdict(agree == 1)}"),
        ("solvable", f"{solvable}/{len(problems)}", f"{sum(s for s, _ in theirs)}/{len(problems)}", "", ""),
    ]


# --- W4: verifier cases --------------------------------------------------------------------------------

_TZ_ALLOWED = re.compile(r"^[\d+\-*/().\s]+$")


def tinyzero_check(expr: str, nums: list[int], target: int) -> bool:
    """TinyZero's countdown scorer (validate_equation + evaluate_equation): eval. Never give it hostile input."""
    try:
        if sorted(int(n) for n in re.findall(r"\d+", expr)) != sorted(nums):
            return False
        if not _TZ_ALLOWED.match(expr):
            return False
        result = eval(expr, {"__builtins__": None}, {})  # the baseline's own method; safe inputs only
        return abs(result - target) < 1e-5
    except Exception:
        return False


def _run_cases(scorer: Callable[[Any, list[int], int], bool], cases: list[dict[str, Any]]) -> list[bool]:
    return [scorer(c["expr"], c["nums"], c["target"]) for c in cases]


def bench_w4(cases: list[dict[str, Any]], repeats: int) -> list[Row]:
    """W4: every case through `check`; the eval baseline on the safe (correct and wrong) cases only."""
    safe = [c for c in cases if c["kind"] != "hostile"]
    all_time, verdicts = best_of(repeats, lambda: _run_cases(check, cases))
    ours_safe, _ = best_of(repeats, lambda: _run_cases(check, safe))
    base_safe, base_verdicts = best_of(repeats, lambda: _run_cases(tinyzero_check, safe))
    worst, worst_case = 0.0, cases[0]
    for case in cases:
        for _ in range(repeats):
            start = time.perf_counter()
            check(case["expr"], case["nums"], case["target"])
            seconds = time.perf_counter() - start
            if seconds > worst:
                worst, worst_case = seconds, case
    false_accepts = sum(v and not c["expected"] for v, c in zip(verdicts, cases, strict=True))
    false_rejects = sum(c["expected"] and not v for v, c in zip(verdicts, cases, strict=True))
    base_errors = sum(v != c["expected"] for v, c in zip(base_verdicts, safe, strict=True))
    ratio = ours_safe / base_safe
    worst_label = f"worst single call (ms; {worst_case['kind']}, {len(str(worst_case['expr']))} chars)"
    return [
        (f"total, all {len(cases)} (ms)", f"{all_time * 1e3:.2f}", "not run (eval)", "", ""),
        (
            f"total, {len(safe)} safe (ms)",
            f"{ours_safe * 1e3:.2f}",
            f"{base_safe * 1e3:.2f}",
            f"{ratio:.2f}",
            f"<= 3 {verdict(ratio <= 3)}",
        ),
        (worst_label, f"{worst * 1e3:.3f}", "", "", f"<= 50 ms {verdict(worst <= 0.05)}"),
        (
            "false accepts",
            str(false_accepts),
            f"{base_errors} errors on safe",
            "",
            f"0 {verdict(false_accepts == 0)}",
        ),
        ("false rejects", str(false_rejects), "", "", ""),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the three workloads and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads, one repeat (a smoke run)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    print(
        f"cogbeh-gen countdown benchmarks{' (quick)' if args.quick else ''}: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    n_w1 = 100 if args.quick else 1000
    w3 = load_w3()[: 10 if args.quick else 100]
    cases = load_w4()
    print_table(
        f"W1  {n_w1} problems, preset tinyzero, vs naive rejection sampler + first-solution DFS",
        bench_w1(n_w1, repeats),
    )
    print_table(
        f"W3  {len(w3)} classic 6-tile problems (frozen), decide + all reachable, vs exhaustive DP",
        bench_w3(w3, repeats),
    )
    print_table(
        f"W4  {len(cases)} verifier cases (frozen: correct, wrong, hostile), vs TinyZero eval scorer",
        bench_w4(cases, repeats),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
