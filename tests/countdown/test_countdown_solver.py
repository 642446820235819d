"""Solver properties: solutions check, the three deciders agree, and everything matches a brute-force search."""

from __future__ import annotations

import ast
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogbeh.countdown import RULES, check, is_solvable, reachable, solve

# A tree is ("n", number) or (op, left, right); a key is its canonical form up to commutativity and
# associativity of + and * (with - and / folded in as subtracted terms and divisors).
Tree = tuple
Key = tuple


def _legal(value: Fraction, rules: str) -> bool:
    """Per-rule legality of an intermediate, written independently of cogbeh.countdown.rules."""
    if rules == "standard":
        return True
    if value.denominator != 1:
        return False
    return value > 0 if rules == "classic" else value >= 0


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def brute_trees(nums: tuple[int, ...], rules: str) -> dict[int, list[tuple[Fraction, Tree]]]:
    """Every legal expression tree over every subset (by index bitmask) of `nums`, with its exact value."""
    memo: dict[int, list[tuple[Fraction, Tree]]] = {}

    def build(mask: int) -> list[tuple[Fraction, Tree]]:
        if mask in memo:
            return memo[mask]
        members = [i for i in range(len(nums)) if mask >> i & 1]
        out: list[tuple[Fraction, Tree]] = []
        if len(members) == 1:
            value = Fraction(nums[members[0]])
            if _legal(value, rules):
                out.append((value, ("n", nums[members[0]])))
        else:
            sub = (mask - 1) & mask
            while sub:  # every ordered split into two non-empty parts
                for lv, lt in build(sub):
                    for rv, rt in build(mask ^ sub):
                        for op in "+-*/":
                            value = _apply(op, lv, rv)
                            if value is not None and _legal(value, rules):
                                out.append((value, (op, lt, rt)))
                sub = (sub - 1) & mask
        memo[mask] = out
        return out

    for mask in range(1, 1 << len(nums)):
        build(mask)
    return memo


def _candidates(nums: tuple[int, ...], rules: str) -> list[tuple[Fraction, Tree]]:
    """Trees that count as answers: over all numbers, or over any subset under classic rules."""
    trees = brute_trees(nums, rules)
    if rules == "classic":
        return [item for items in trees.values() for item in items]
    return trees[(1 << len(nums)) - 1]


def canon(tree: Tree) -> Key:
    """Flatten sums into (added, subtracted) and products into (factors, divisors); order-free multisets."""
    if tree[0] == "n":
        return ("n", tree[1])
    op, left, right = tree
    kind = "+" if op in "+-" else "*"
    lp, lm = _parts(canon(left), kind)
    rp, rm = _parts(canon(right), kind)
    plus, minus = (lp + rp, lm + rm) if op in "+*" else (lp + rm, lm + rp)
    return (kind, tuple(sorted(plus, key=repr)), tuple(sorted(minus, key=repr)))


def _parts(key: Key, kind: str) -> tuple[list[Key], list[Key]]:
    return (list(key[1]), list(key[2])) if key[0] == kind else ([key], [])


_AST_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse_tree(text: str) -> Tree:
    """A solution string as a tree, via Python's parser (same precedence; never evaluated)."""

    def walk(node: ast.AST) -> Tree:
        if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
            return (_AST_OPS[type(node.op)], walk(node.left), walk(node.right))
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return ("n", node.value)
        raise AssertionError(f"unexpected syntax in solution {text!r}: {ast.dump(node)}")

    return walk(ast.parse(text, mode="eval").body)


small_nums = st.lists(st.integers(1, 13), min_size=2, max_size=4).map(tuple)
small_targets = st.integers(-3, 60)


@pytest.mark.parametrize("rules", RULES)
@settings(max_examples=60, deadline=None)
@given(nums=small_nums, target=small_targets)
def test_solver_agrees_with_brute_force(rules: str, nums: tuple[int, ...], target: int) -> None:
    candidates = _candidates(nums, rules)
    values = {v for v, _ in candidates}
    assert reachable(nums, rules=rules) == values

    solutions = solve(nums, target, rules=rules)
    assert is_solvable(nums, target, rules=rules) == bool(solutions) == (target in values)
    for text in solutions:
        assert check(text, nums, target, rules=rules), text

    keys = [canon(parse_tree(text)) for text in solutions]
    assert len(set(keys)) == len(keys), f"duplicate solutions up to + and * regrouping: {solutions}"
    expected = {canon(tree) for value, tree in candidates if value == target}
    assert set(keys) == expected


@pytest.mark.parametrize("rules", RULES)
@settings(max_examples=60, deadline=None)
@given(nums=small_nums, data=st.data())
def test_every_reachable_value_is_solvable(rules: str, nums: tuple[int, ...], data: st.DataObject) -> None:
    values = sorted(v for v in reachable(nums, rules=rules) if Fraction(v).denominator == 1)
    if not values:
        return
    target = int(data.draw(st.sampled_from(values)))
    solutions = solve(nums, target, rules=rules, limit=3)
    assert is_solvable(nums, target, rules=rules)
    assert 1 <= len(solutions) <= 3
    assert all(check(text, nums, target, rules=rules) for text in solutions)


def _values_dp(nums: tuple[int, ...], rules: str) -> set:
    """Values only, by bitmask dynamic programme (for sizes where enumerating trees is too slow)."""
    vals: dict[int, set[Fraction]] = {}
    for mask in range(1, 1 << len(nums)):
        members = [i for i in range(len(nums)) if mask >> i & 1]
        if len(members) == 1:
            v = Fraction(nums[members[0]])
            vals[mask] = {v} if _legal(v, rules) else set()
            continue
        out: set[Fraction] = set()
        sub = (mask - 1) & mask
        while sub:
            for a in vals[sub]:
                for b in vals[mask ^ sub]:
                    for op in "+-*/":
                        v = _apply(op, a, b)
                        if v is not None and _legal(v, rules):
                            out.add(v)
            sub = (sub - 1) & mask
        vals[mask] = out
    full = (1 << len(nums)) - 1
    picked = set().union(*vals.values()) if rules == "classic" else vals[full]
    return {v.numerator if v.denominator == 1 else v for v in picked}


@pytest.mark.parametrize(
    ("nums", "rules"),
    [
        ((1, 2, 3, 4, 5), "integer"),
        ((7, 7, 3, 11, 2), "standard"),
        ((25, 50, 3, 6, 1), "classic"),
        ((100, 75, 2, 2, 9), "classic"),
        ((3, 3, 3, 3, 3), "integer"),
    ],
)
def test_reachable_matches_dp_on_five_numbers(nums: tuple[int, ...], rules: str) -> None:
    assert reachable(nums, rules=rules) == _values_dp(nums, rules)


def test_known_solution_and_canonical_form() -> None:
    assert "(30 + 3 - 25) * 4" in solve([25, 30, 3, 4], 32)
    # a + (b - c), (a - c) + b and b - (c - a) are one solution
    assert solve([5, 3, 2], 6, rules="integer") == ["5 + 3 - 2"]
    assert solve((2, 3, 4), 24, rules="integer") == ["4 * 3 * 2"]


def test_solutions_are_shortest_first_and_limit_is_a_prefix_subset() -> None:
    everything = solve([1, 2, 3, 4], 10)
    assert everything == sorted(everything, key=lambda text: (len(text), text))
    limited = solve([1, 2, 3, 4], 10, limit=2)
    assert len(limited) == 2 and set(limited) <= set(everything)
    assert solve([1, 2, 3, 4], 10, limit=0) == []


def test_integer_rules_forbid_what_standard_allows() -> None:
    # 8 / (3 - 8 / 3) = 24 needs a fraction on the way; 3 - 8 ... needs a negative intermediate
    assert is_solvable([3, 3, 8, 8], 24) and not is_solvable([3, 3, 8, 8], 24, rules="integer")
    assert solve([3, 3, 8, 8], 24) == ["8 / (3 - 8 / 3)"]
    assert not is_solvable([1, 5], -4, rules="integer") and is_solvable([1, 5], -4)
    # classic rules may leave tiles out; the others may not
    assert is_solvable([100, 3, 7], 100, rules="classic") and not is_solvable(
        [100, 3, 7], 100, rules="integer"
    )
    assert 0 not in reachable([2, 2], rules="classic") and 0 in reachable([2, 2], rules="integer")


@pytest.mark.parametrize(
    "call", [lambda: reachable([], rules="integer"), lambda: solve([1, 2], 3, rules="x")]
)
def test_bad_solver_input_raises_value_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()
