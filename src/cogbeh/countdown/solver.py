"""Reachable-set solver: which values a multiset of numbers can make, and every distinct way to make one.

The core is a memoised dynamic programme over sorted sub-multisets: the values a multiset can reach exactly
(using every member once) are the pairwise combinations of the values of its two-part splits. Deciding one
target never builds the full top-level set: it looks up, for each value x of one part, the partners y the
other part would need (t - x, x - t, x + t, t / x, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from functools import cache, lru_cache

from cogbeh.countdown.rules import OPS, Rules, Value, allowed, apply, normalise, validate_rules

#: Above this many pairs, integer-rule combinations are done in numpy (same results, ~20x faster).
_NUMPY_PAIRS = 512
#: numpy path only while every product fits comfortably in int64.
_NUMPY_MAX = 2**31


def _key(nums: Iterable[int]) -> tuple[int, ...]:
    key = tuple(sorted(int(n) for n in nums))
    if not key:
        raise ValueError("nums must not be empty")
    return key


@cache
def _split_positions(size: int) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Positional two-part splits of `size` items, with item 0 always on the left so each appears once."""
    out = []
    for mask in range(1, (1 << size) - 1, 2):
        left = tuple(i for i in range(size) if mask >> i & 1)
        out.append((left, tuple(i for i in range(size) if not mask >> i & 1)))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def _splits(key: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Unordered splits of a sorted multiset into two non-empty sorted parts, each multiset pair once."""
    if len(key) == 2:  # the common small cases, spelled out: this runs for every sampled candidate
        return (((key[0],), (key[1],)),)
    if len(key) == 3 and len(set(key)) == 3:
        a, b, c = key
        return (((a,), (b, c)), ((b,), (a, c)), ((c,), (a, b)))
    pairs = [
        (tuple(key[i] for i in left), tuple(key[i] for i in right)) for left, right in _split_positions(len(key))
    ]
    if len(set(key)) == len(key):  # distinct members: positional splits are already distinct
        return tuple(pairs)
    seen: set = set()
    out = []
    for left, right in pairs:
        if (left, right) not in seen and (right, left) not in seen:
            seen.add((left, right))
            out.append((left, right))
    return tuple(out)


@cache
def _submultisets(key: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Distinct non-empty sub-multisets, smallest first (classic rules may use any subset)."""
    size = len(key)
    found = {tuple(key[i] for i in range(size) if mask >> i & 1) for mask in range(1, 1 << size)}
    return tuple(sorted(found, key=lambda sub: (len(sub), sub)))


def _combine_python(left: frozenset, right: frozenset, rules: Rules, out: set) -> None:
    # Written out per rule set and adding straight into the caller's set: the hot path of sampling and deciding.
    add = out.add
    if rules == "standard":
        for a in left:
            for b in right:
                add(a + b)
                add(a - b)
                add(b - a)
                add(a * b)
                if b:
                    add(_divide(a, b))
                if a:
                    add(_divide(b, a))
        return
    for a in left:
        for b in right:
            add(a + b)
            add(a * b)
            add(a - b if a >= b else b - a)
            if b and a % b == 0:
                add(a // b)
            if a and b % a == 0:
                add(b // a)


def _divide(a: Value, b: Value) -> Value:
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    return normalise(Fraction(a) / b)


@lru_cache(maxsize=1 << 12)
def _array(key: tuple[int, ...], rules: Rules):  # -> numpy.ndarray; numpy is imported lazily
    import numpy as np  # only large classic-size sets get here; keeps numpy off the CLI's start-up path

    values = exact_values(key, rules)
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _combine_numpy(left_key: tuple[int, ...], right_key: tuple[int, ...], rules: Rules):  # -> numpy.ndarray
    import numpy as np

    a, b = np.broadcast_arrays(_array(left_key, rules)[:, None], _array(right_key, rules)[None, :])
    a, b = a.ravel(), b.ravel()
    parts = [a + b, np.abs(a - b), a * b]
    for num, den in ((a, b), (b, a)):
        ok = den != 0
        num, den = num[ok], den[ok]
        ok = num % den == 0
        parts.append(num[ok] // den[ok])
    return np.concatenate(parts)


def _numpy_ok(left: frozenset, right: frozenset, rules: Rules) -> bool:
    big = len(left) * len(right) > _NUMPY_PAIRS
    return big and rules != "standard" and max(left) < _NUMPY_MAX and max(right) < _NUMPY_MAX


@lru_cache(maxsize=1 << 16)
def exact_values(key: tuple[int, ...], rules: Rules) -> frozenset:
    """Every value reachable from the sorted multiset `key` using each member exactly once."""
    if len(key) == 1:
        return frozenset(key) if allowed(key[0], rules) else frozenset()
    out: set = set()
    arrays = []
    for left, right in _splits(key):
        lv, rv = exact_values(left, rules), exact_values(right, rules)
        if not (lv and rv):
            continue
        if _numpy_ok(lv, rv, rules):  # large splits are computed in numpy, deduplicated by the set below
            arrays.append(_combine_numpy(left, right, rules))
        else:
            _combine_python(lv, rv, rules, out)
    for array in arrays:
        out.update(array.tolist())
    if rules == "classic":
        out.discard(0)  # |a - b| = 0 is never a legal classic value
    return frozenset(out)


def reachable(nums: Iterable[int], *, rules: Rules) -> set:
    """Values `nums` can make: using all of them (standard, integer) or any non-empty subset (classic)."""
    key, rules = _key(nums), validate_rules(rules)
    if rules == "classic":
        out: set = set()
        for sub in _submultisets(key):
            out |= exact_values(sub, rules)
        return out
    return set(exact_values(key, rules))


def _partners(x: Value, target: Value, rules: Rules) -> Iterator[Value]:
    """Values y for which some `x op y` or `y op x` could equal `target`."""
    yield target - x
    yield x - target
    yield x + target
    if rules == "standard":
        if x != 0:
            yield _divide(target, x)
            yield target * x
        if target != 0:
            yield _divide(x, target)
        return
    if x != 0:
        if target % x == 0:
            yield target // x
        yield target * x
    if target != 0 and x % target == 0:
        yield x // target


def _joins(x: Value, y: Value, target: int, rules: Rules) -> bool:
    return any(apply(op, a, b, rules) == target for op in OPS for a, b in ((x, y), (y, x)))


def _hits(key: tuple[int, ...], target: int, rules: Rules) -> bool:
    """Whether `key` (all members used) reaches `target`, without building its full value set."""
    if len(key) == 1:
        return key[0] == target and allowed(key[0], rules)
    if rules != "standard" and not allowed(target, rules):
        return False
    if len(key) == 3 and rules != "standard":
        return _hits3(key, target, rules == "classic")
    meets = _meets_standard if rules == "standard" else _meets_integer
    for left, right in _splits(key):
        small, large = exact_values(left, rules), exact_values(right, rules)
        if len(small) > len(large):
            small, large = large, small
        if small and large and meets(small, large, target, rules):
            return True
    return False


def _pair_values(x: int, y: int, positive: bool) -> list[int]:
    values = [x + y, x * y]
    if x != y or not positive:
        values.append(abs(x - y))
    if y and x % y == 0:
        values.append(x // y)
    if x and y % x == 0:
        values.append(y // x)
    return values


def _hits3(key: tuple[int, ...], t: int, positive: bool) -> bool:
    # Three numbers, whole-number rules, written out: the sampler asks this ~15 times per accepted problem.
    # Every expression over three numbers combines one pair first, then the result with the third.
    a, b, c = key
    for x, y, z in ((a, b, c), (a, c, b), (b, c, a)):
        for p in _pair_values(x, y, positive):
            if p + z == t or p * z == t or (p - z == t or z - p == t) and (t or not positive):
                return True
            if (z and p == t * z) or (p and z == t * p):
                return True
    return False


def _meets_standard(small: frozenset, large: frozenset, target: int, rules: Rules) -> bool:
    for x in small:
        if x == 0 and target == 0:  # 0 * y = 0 for any y
            return True
        for y in _partners(x, target, rules):
            if y in large and _joins(x, y, target, rules):
                return True
    return False


def _meets_integer(small: frozenset, large: frozenset, t: int, rules: Rules) -> bool:
    # Inlined partner look-ups for integer and classic rules (all values >= 0, target legal): the hot path of
    # sampling. Each test names the y with x op y = t (or y op x = t) and the condition that makes it legal.
    for x in small:
        if t - x in large or x - t in large or x + t in large:
            return True
        if x:
            if t % x == 0 and t // x in large:
                return True
            if t * x in large:
                return True
            if t and x % t == 0 and x // t in large:
                return True
        elif t == 0:
            return True
    return False


def is_solvable(nums: Iterable[int], target: int, *, rules: Rules = "standard") -> bool:
    """Whether some expression over `nums` (all of them; any subset under classic rules) equals `target`."""
    key, rules = _key(nums), validate_rules(rules)
    if rules == "classic":
        return any(_hits(sub, target, rules) for sub in _submultisets(key))
    return _hits(key, target, rules)
