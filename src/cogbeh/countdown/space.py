"""A preset's problem space: every distinct problem it can produce, listed in a fixed order, counted, and the
unused remainder that sampling falls back on once random draws stop finding new problems."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator

from cogbeh.countdown.problem import Preset, Problem, resolve_preset
from cogbeh.countdown.solver import exact_values, is_solvable, reachable

#: Number sets listed at most per size (or per count): above this a space is too large to list exactly
#: (tinyzero's 4-number space holds 4.4M sets), and sampling never comes near its end anyway.
MAX_LISTED = 2_000_000
#: Classic rules: up to this many targets are decided one by one, wider ranges from the reachable set.
_FEW_TARGETS = 32


class ProblemSupplyError(ValueError):
    """More distinct problems were asked for than the preset's space holds."""


def number_sets(preset: Preset, size: int) -> Iterator[tuple[int, ...]]:
    """Every sorted multiset of `size` numbers the preset can draw, in lexicographic order."""
    if not preset.bag:
        low, high = preset.num_range
        yield from itertools.combinations_with_replacement(range(low, high + 1), size)
        return
    allowed = _large_counts(preset, size)
    seen: set[tuple[int, ...]] = set()
    for key in itertools.combinations(sorted(preset.bag), size):
        if key not in seen and sum(n > 10 for n in key) in allowed:
            seen.add(key)
            yield key


def set_count(preset: Preset, size: int) -> int:
    """How many number sets `number_sets` lists (an upper bound for bags: their draws are sub-multisets)."""
    if preset.bag:
        return math.comb(len(preset.bag), size)
    low, high = preset.num_range
    return math.comb(high - low + size, size)


def targets_for(key: tuple[int, ...], preset: Preset) -> list[int]:
    """The preset's targets that `key` can be a problem for (all of them when unsolvable ones are kept)."""
    low, high = preset.target_range
    if not preset.solvable:
        return list(range(low, high + 1))
    if preset.rules != "classic":
        # The uncached body of exact_values (its parts stay cached): listing a space must not fill the solver's
        # cache with a value set per number set.
        values = exact_values.__wrapped__(key, preset.rules)
    elif high - low < _FEW_TARGETS:
        return [t for t in range(low, high + 1) if is_solvable(key, t, rules=preset.rules)]
    else:
        values = reachable(key, rules=preset.rules)  # any subset may be used: the union of their value sets
    return [t for t in range(low, high + 1) if t in values]


def problems_of_size(preset: Preset, size: int) -> Iterator[Problem]:
    """Every distinct problem of `size` numbers in the preset's space, in a fixed order."""
    for key in number_sets(preset, size):
        for target in targets_for(key, preset):
            yield Problem(key, target)


def in_space(problem: Problem, preset: Preset) -> bool:
    """Whether the preset can produce `problem` (numbers in any order)."""
    low, high = preset.target_range
    size = len(problem.nums)
    if size not in preset.sizes or not low <= problem.target <= high:
        return False
    key = tuple(sorted(problem.nums))
    if preset.bag:
        fits = not Counter(key) - Counter(preset.bag) and sum(n > 10 for n in key) in _large_counts(preset, size)
    else:
        fits = all(preset.num_range[0] <= n <= preset.num_range[1] for n in key)
    return fits and (not preset.solvable or is_solvable(key, problem.target, rules=preset.rules))


def _large_counts(preset: Preset, size: int) -> set[int]:
    # A bag draw takes min(L, large tiles in the bag, size) tiles over 10, for L in the preset's `large` range.
    n_large = sum(n > 10 for n in preset.bag)
    return {min(count, n_large, size) for count in range(preset.large[0], preset.large[1] + 1)}


_FULL_COUNTS: dict[tuple[Preset, int], int] = {}


def count_problems(preset: str | Preset = "paper", *, exclude: Iterable[Problem] | None = None,
                   at_least: int | None = None, **overrides: object) -> int | None:
    """Distinct problems the preset can still produce once `exclude` is set aside.

    Exact when below `at_least` (or when `at_least` is None); counting stops as soon as `at_least` is reached,
    and the answer is then a number >= `at_least`. None when the space is too large to count that far.
    """
    chosen = preset if isinstance(preset, Preset) else resolve_preset(preset, **overrides)
    excluded = len({p.id for p in exclude or () if in_space(p, chosen)})
    goal = None if at_least is None else at_least + excluded
    total, visited = 0, 0
    for size in sorted(set(chosen.sizes), key=lambda s: set_count(chosen, s)):
        if (chosen, size) in _FULL_COUNTS:
            total += _FULL_COUNTS[chosen, size]
        else:
            part = 0
            for key in number_sets(chosen, size):
                visited += 1
                if visited > MAX_LISTED:
                    return None
                part += len(targets_for(key, chosen))
                if goal is not None and total + part >= goal:
                    return total + part - excluded
            _FULL_COUNTS[chosen, size] = part
            total += part
        if goal is not None and total >= goal:
            break
    return total - excluded


def check_supply(n: int, *, preset: str = "paper", exclude: Iterable[Problem] | None = None,
                 **overrides: object) -> None:
    """Raise ProblemSupplyError, with the count, when the preset holds fewer than `n` distinct problems."""
    exclude = list(exclude or ())
    available = count_problems(preset, exclude=exclude, at_least=n, **overrides)
    if available is not None and available < n:
        name = f"preset {preset!r}" + (" with these overrides" if overrides else "")
        after = f" ({available} after excluding {len(exclude)})" if exclude else ""
        total = available if not exclude else count_problems(preset, **overrides)
        fix = f"ask for at most {available} or widen the preset" if available else "widen the preset"
        raise ProblemSupplyError(f"{name} holds {total} distinct problems{after}, fewer than the {n} asked for; "
                                 f"{fix}")


class Leftovers:
    """The unused problems of each size, listed only once random draws of that size stop finding any."""

    def __init__(self, preset: Preset, skip: set[str]) -> None:
        self._preset, self._skip = preset, skip
        self._lists: dict[int, list[Problem]] = {}
        self._totals: dict[int, int] = {}

    def listed(self, size: int) -> bool:
        """Whether `size` has been listed (from then on its problems come from the list, not from draws)."""
        return size in self._lists

    def take(self, size: int, rng: random.Random) -> Problem | None:
        """A random unused problem of `size`, removed from the list; None when none is left."""
        if size not in self._lists:
            if set_count(self._preset, size) > MAX_LISTED:
                raise ValueError(f"no new problem of {size} numbers found in many draws, and the space is too "
                                 f"large to list; relax the preset")
            every = list(problems_of_size(self._preset, size))
            self._totals[size] = len(every)
            self._lists[size] = [p for p in every if p.id not in self._skip]
        items = self._lists[size]
        while items:
            pick = rng.randrange(len(items))
            items[pick], items[-1] = items[-1], items[pick]  # swap-remove: O(1), and still a pure function
            problem = items.pop()
            if problem.id not in self._skip:
                return problem
        return None

    def total(self) -> int:
        """Distinct problems in the space (only once every size has been listed)."""
        return sum(self._totals.values())
