"""Frozen benchmark workloads (DESIGN §6), built from fixed seeds so every system solves the same instances.

`python benchmarks/workloads.py` rewrites the files under benchmarks/data/; `--check` verifies that the
committed files still match what the seeds produce. W1 and W2 are sampling workloads (each system samples
its own problems from the same distribution), so only W3 and W4 are stored.

W4 rows: {"kind": "correct" | "wrong" | "hostile", "expr": ..., "nums": [...], "target": t, "expected": bool}.
`expr` is a string, a JSON scalar (a non-string answer), or {"repeat": [[piece, count], ...]} for the huge
hostile strings (1 MB, 10^4-deep parentheses), expanded by concatenation when loaded.
"""

from __future__ import annotations

import ast
import json
import random
import re
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

from cogbeh.countdown import Problem, load_problems, sample_problems, save_problems, solve

DATA = Path(__file__).resolve().parent / "data"
W3_PATH = DATA / "w3_classic.jsonl"
W4_PATH = DATA / "w4_verifier.jsonl"
W3_SEED = 20261128
W4_SEED = 20261128
W4_COUNTS = {"correct": 400, "wrong": 400, "hostile": 200}
MB = 1_000_000


def build_w3() -> list[Problem]:
    """W3: 100 classic 6-tile problems, target 101..999, unsolvable ones kept."""
    return sample_problems(100, preset="classic", seed=W3_SEED, solvable=False)


def load_w3() -> list[Problem]:
    """The frozen W3 problems."""
    return load_problems(W3_PATH)


_AST_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def reference_verdict(expr: str, nums: list[int], target: int) -> bool:
    """Independent oracle for safe, well-formed inputs: Python's parser (never eval), exact Fractions."""
    literals: list[int] = []

    def walk(node: ast.AST) -> Fraction | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            literals.append(node.value)
            return Fraction(node.value)
        if not (isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS):
            raise ValueError(f"not a plain arithmetic expression: {expr!r}")
        left, right = walk(node.left), walk(node.right)
        if left is None or right is None:
            return None
        op = _AST_OPS[type(node.op)]
        if op == "/":
            return None if right == 0 else left / right
        return left + right if op == "+" else left - right if op == "-" else left * right

    value = walk(ast.parse(expr.strip(), mode="eval").body)
    return value is not None and Counter(literals) == Counter(nums) and value == target


def _correct(rng: random.Random, problems: list[Problem]) -> list[dict[str, Any]]:
    rows = []
    for problem in problems:
        solution = rng.choice(solve(problem.nums, problem.target, limit=20))
        nums = list(problem.nums)
        rng.shuffle(nums)
        rows.append({"kind": "correct", "expr": solution, "nums": nums, "target": problem.target})
    return rows


def _mutate(rng: random.Random, row: dict[str, Any]) -> dict[str, Any]:
    """A well-formed, eval-safe near miss: wrong target, swapped operator, changed, dropped or reused number."""
    expr, nums, target = row["expr"], list(row["nums"]), row["target"]
    how = rng.randrange(5)
    if how == 0:
        target += rng.choice([-2, -1, 1, 2])
    elif how == 1:
        positions = [i for i, ch in enumerate(expr) if ch in "+-*/"]
        i = rng.choice(positions)
        expr = expr[:i] + rng.choice([op for op in "+-*/" if op != expr[i]]) + expr[i + 1 :]
    elif how == 2:
        nums[rng.randrange(len(nums))] += rng.choice([-1, 1, 10])
    elif how == 3:
        nums.append(rng.randint(1, 99))
    else:  # one literal replaced by another: a number reused and one dropped (stream-of-search's hole)
        spans = [m.span() for m in re.finditer(r"\d+", expr)]
        (i, j), (k, m) = rng.sample(spans, 2)
        expr = expr[:i] + expr[k:m] + expr[j:]
    return {"kind": "wrong", "expr": expr, "nums": [max(1, n) for n in nums], "target": target}


def _rep(*parts: tuple[str, int]) -> dict[str, list[list[object]]]:
    return {"repeat": [[piece, count] for piece, count in parts]}


def _hostile(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """The holes of DESIGN §2 and the issue's hostile table, with varied numbers; every one must be rejected."""
    rows = []
    for index in range(count):
        a, b, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 99)
        templates: list[tuple[object, list[int], int]] = [
            ("9**9**9**9", [9, 9, 9, 9], 9),
            (f"{a}.5*{b + 1}", [a, 5, b + 1], (2 * a + 1) * (b + 1) // 2),
            (f"{a * b}//{b}", [a * b, b], a),
            (f"{c}%{a}", [c, a], c % a),
            (f"{a}^{b}", [a, b], a ^ b),
            (f"{a}**{b}", [a, b], a**b),
            (f"-{a}+{c}", [a, c], c - a),
            (f"+{a}+{c}", [a, c], c + a),
            (f"{c}--{a}", [c, a], c + a),
            (f"abs({a})+{c}", [a, c], a + c),
            ("__import__('os').system('true')", [1], 0),
            (f"(lambda: {c})()", [c], c),
            (chr(0x660 + a) + "+" + chr(0x660 + b), [a, b], a + b),  # Arabic-Indic digits
            (chr(0xFF10 + a) + "+" + chr(0xFF10 + b), [a, b], a + b),  # full-width digits
            (f"{a}+{b}\x00", [a, b], a + b),
            (f"{a}+{b}={a + b}", [a, b], a + b),
            (f"{a}{b}", [a, b], 10 * a + b),  # concatenated digits
            (f"{a}e{b}", [a, b], a * 10**b),
            (_rep(("(", 10_000), (f"{a}+{b}", 1), (")", 10_000)), [a, b], a + b),
            (_rep(("1+", MB // 2), ("1", 1)), [1, 1], 2),  # 1 MB expression
            (_rep((" ", MB), (f"{a}+{b}", 1)), [a, b], a + b),
            (_rep(("(", MB)), [1], 1),
            (f"{a}*{c}", [a, b, c], a * c),  # drops a number
            (f"{c}+{c}", [c, a], 2 * c),  # reuses one number, drops another
            (f"{c}/({a}-{a})", [c, a, a], 0),  # division by zero
            (f"<answer>{a}+{b}</answer>", [a, b], a + b),
            (None, [a], a),
            (a, [a], a),
        ]
        expr, nums, target = templates[index % len(templates)]
        rows.append({"kind": "hostile", "expr": expr, "nums": nums, "target": target, "expected": False})
    return rows


def build_w4() -> list[dict[str, Any]]:
    """W4: 1000 verifier cases; correct and wrong ones labelled by the independent oracle."""
    rng = random.Random(f"w4:{W4_SEED}")
    problems = sample_problems(W4_COUNTS["correct"], preset="tinyzero", seed=W4_SEED)
    correct = _correct(rng, problems)
    wrong = []
    while len(wrong) < W4_COUNTS["wrong"]:
        candidate = _mutate(rng, correct[len(wrong) % len(correct)])
        if not reference_verdict(candidate["expr"], candidate["nums"], candidate["target"]):
            wrong.append(candidate)
    for row in (*correct, *wrong):
        row["expected"] = reference_verdict(row["expr"], row["nums"], row["target"])
        if row["expected"] != (row["kind"] == "correct"):
            raise RuntimeError(f"mislabelled W4 case: {row}")
    return [*correct, *wrong, *_hostile(rng, W4_COUNTS["hostile"])]


def expand(expr: object) -> object:
    """A W4 `expr` as the verifier receives it (repeat-encoded strings expanded)."""
    if isinstance(expr, dict):
        return "".join(str(piece) * int(count) for piece, count in expr["repeat"])
    return expr


def load_w4() -> list[dict[str, Any]]:
    """The frozen W4 cases with `expr` expanded."""
    rows = [json.loads(line) for line in W4_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{**row, "expr": expand(row["expr"])} for row in rows]


def _w4_text(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=True, separators=(",", ":")) + "\n" for row in rows)


def main(argv: list[str]) -> int:
    """Write the frozen files, or with --check report whether they match the seeds."""
    w3, w4 = build_w3(), _w4_text(build_w4())
    if "--check" in argv:
        same = load_w3() == w3 and W4_PATH.read_text(encoding="utf-8") == w4
        print("frozen workloads match their seeds" if same else "frozen workloads differ from their seeds")
        return 0 if same else 1
    DATA.mkdir(parents=True, exist_ok=True)
    save_problems(w3, W3_PATH)
    W4_PATH.write_text(w4, encoding="utf-8")
    print(f"wrote {W3_PATH.name} ({len(w3)} problems) and {W4_PATH.name} ({w4.count(chr(10))} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
