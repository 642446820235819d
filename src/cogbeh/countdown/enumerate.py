"""Enumeration: every distinct solution of a problem, as canonical expression trees or strings.

Built on the reachable-set solver: an expression for value v over a multiset is found by splitting the multiset,
taking each value x of one part and looking up the partner y the other part must make (x op y = v). Only
values that are reachable are ever expanded, so the search never wanders into dead branches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from cogbeh.countdown.expr import Expr, combine, leaf
from cogbeh.countdown.rules import OPS, Rules, Value, allowed, apply, validate_rules

# The solver's memoised building blocks (package-internal).
from cogbeh.countdown.solver import _hits, _key, _partners, _splits, _submultisets, exact_values


@lru_cache(maxsize=1 << 14)
def _expressions(key: tuple[int, ...], value: Value, rules: Rules) -> tuple[Expr, ...]:
    """Every canonical expression over exactly `key` whose value is `value` (deduplicated)."""
    found: dict[str, Expr] = {}
    for expr in _iter_expressions(key, value, rules):
        found.setdefault(expr.text, expr)
    return tuple(found.values())


def _iter_expressions(key: tuple[int, ...], value: Value, rules: Rules) -> Iterator[Expr]:
    if len(key) == 1:
        if key[0] == value and allowed(key[0], rules):
            yield leaf(key[0])
        return
    for left, right in _splits(key):
        lv, rv = exact_values(left, rules), exact_values(right, rules)
        for x in sorted(lv):
            partners = set(_partners(x, value, rules))
            if x == 0 and value == 0:  # 0 * y = 0 and 0 / y = 0 for every y
                partners |= rv
            for y in sorted(partners):
                if y not in rv:
                    continue
                for op in OPS:
                    for a_key, a, b_key, b in ((left, x, right, y), (right, y, left, x)):
                        if apply(op, a, b, rules) != value:
                            continue
                        for ea in _expressions(a_key, a, rules):
                            for eb in _expressions(b_key, b, rules):
                                yield combine(op, ea, eb)


def solutions(nums: Iterable[int], target: int, *, rules: Rules = "standard", limit: int | None = None) -> list[Expr]:
    """Distinct canonical solution trees (see `solve`), in discovery order."""
    key, rules = _key(nums), validate_rules(rules)
    if limit is not None and limit <= 0:
        return []
    subsets = _submultisets(key) if rules == "classic" else (key,)
    seen: dict[str, Expr] = {}
    for sub in subsets:
        if not _hits(sub, target, rules):
            continue
        for expr in _iter_expressions(sub, target, rules):
            seen.setdefault(expr.text, expr)
            if limit is not None and len(seen) >= limit:
                return list(seen.values())
    return list(seen.values())


def solve(nums: Iterable[int], target: int, *, rules: Rules = "standard", limit: int | None = None) -> list[str]:
    """Every distinct solution, shortest first, as strings `check` accepts.

    Canonical form (see `cogbeh.countdown.expr`): sums are flattened into added and subtracted terms and
    products into factors and divisors, each ordered by value, so solutions that differ only by the order or
    grouping of + / - terms (or * / / factors) are one solution: `a + (b - c)` and `(a - c) + b` are both
    `a + b - c`. Parentheses are printed only where left-to-right reading needs them.
    """
    return _ordered({expr.text: None for expr in solutions(nums, target, rules=rules, limit=limit)})


def _ordered(texts: dict[str, None]) -> list[str]:
    return sorted(texts, key=lambda text: (len(text), text))
