"""Countdown problems, presets, and seeded sampling in which every problem is a function of (seed, index)."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cogbeh.countdown.rules import Rules, validate_rules
from cogbeh.countdown.solver import is_solvable

if TYPE_CHECKING:
    from cogbeh.countdown.space import Leftovers


@dataclass(frozen=True)
class Problem:
    """Use every number in `nums` once (any subset under classic rules) to make `target`."""

    nums: tuple[int, ...]
    target: int

    def __post_init__(self) -> None:
        nums = tuple(self.nums)
        if not nums or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in nums):
            raise ValueError(f"nums must be a non-empty list of positive integers, got {self.nums!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, int):
            raise ValueError(f"target must be an integer, got {self.target!r}")
        object.__setattr__(self, "nums", nums)

    @property
    def id(self) -> str:
        """Stable id independent of the order of `nums`, e.g. '3-4-25-30_32'."""
        return "-".join(str(n) for n in sorted(self.nums)) + f"_{self.target}"

    def to_dict(self) -> dict[str, object]:
        """The row shape of Jiayi-Pan/Countdown-Tasks-3to4: nums and target."""
        return {"nums": list(self.nums), "target": self.target}


@dataclass(frozen=True)
class Preset:
    """A problem distribution; any field can be overridden by keyword in `sample_problems`."""

    sizes: tuple[int, ...]  # how many numbers, chosen uniformly
    num_range: tuple[int, int]  # inclusive; ignored when `bag` is set
    target_range: tuple[int, int]  # inclusive
    rules: Rules  # rules under which problems must be solvable
    solvable: bool = True
    bag: tuple[int, ...] = ()  # draw tiles without replacement from this bag (classic)
    large: tuple[int, int] = (0, 4)  # classic: how many tiles > 10, chosen uniformly in this range


_CLASSIC_SMALL = tuple(n for n in range(1, 11) for _ in range(2))
_CLASSIC_LARGE = (25, 50, 75, 100)

PRESETS: dict[str, Preset] = {
    "paper": Preset(sizes=(3, 4), num_range=(1, 24), target_range=(10, 25), rules="integer"),
    "tinyzero": Preset(sizes=(3, 4), num_range=(1, 99), target_range=(10, 100), rules="integer"),
    "classic": Preset(
        sizes=(6,), num_range=(1, 100), target_range=(101, 999), rules="classic", bag=_CLASSIC_SMALL + _CLASSIC_LARGE
    ),
}

#: Random draws per index before listing the unused problems of its size (a space near its end).
_MAX_TRIES = 10_000


def resolve_preset(preset: str, **overrides: object) -> Preset:
    """The named preset with keyword overrides applied; unknown names raise ValueError naming the choices."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    fields = {f.name for f in dataclasses.fields(Preset)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown override {unknown[0]!r}; valid overrides: {', '.join(sorted(fields))}")
    for key in ("sizes", "num_range", "target_range", "large", "bag"):
        if key in overrides:
            overrides[key] = tuple(overrides[key])  # type: ignore[arg-type]
    chosen = dataclasses.replace(PRESETS[preset], **overrides)  # type: ignore[arg-type]
    validate_rules(chosen.rules)
    for key, minimum in (("num_range", 1), ("target_range", None), ("large", 0)):
        _check_range(key, getattr(chosen, key), minimum)
    if not chosen.sizes or not all(_is_int(k) and k >= 1 for k in chosen.sizes):
        raise ValueError(f"override 'sizes' must be a non-empty list of positive integers, got {chosen.sizes!r}")
    if chosen.bag:
        _check_bag(chosen)
    return chosen


def _check_bag(preset: Preset) -> None:
    # Each draw takes between large[0] and large[1] tiles over 10 and the rest from the small tiles: both parts
    # of the bag must hold enough for every size and every large-tile count the preset can draw.
    bag = preset.bag
    n_large = sum(n > 10 for n in bag)
    short = any(
        size - min(large, n_large, size) > len(bag) - n_large
        for size in preset.sizes
        for large in range(preset.large[0], preset.large[1] + 1)
    )
    if short or not all(_is_int(n) and n >= 1 for n in bag):
        raise ValueError(f"override 'bag' must be positive integers with enough tiles for every draw, got {bag!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(key: str, value: tuple, minimum: int | None) -> None:
    ok = len(value) == 2 and all(_is_int(v) for v in value) and value[0] <= value[1]
    if not ok or (minimum is not None and value[0] < minimum):
        floor = f" with LOW >= {minimum}" if minimum is not None else ""
        raise ValueError(f"override {key!r} must be (LOW, HIGH) integers, LOW <= HIGH{floor}; got {value!r}")


def _draw(rng: random.Random, preset: Preset, size: int) -> tuple[tuple[int, ...], int]:
    if preset.bag:
        large_pool = [n for n in preset.bag if n > 10]
        small_pool = [n for n in preset.bag if n <= 10]
        n_large = min(rng.randint(*preset.large), len(large_pool), size)
        nums = rng.sample(large_pool, n_large) + rng.sample(small_pool, size - n_large)
    else:
        low, high = preset.num_range
        nums = rng.choices(range(low, high + 1), k=size)
    return tuple(nums), rng.randint(*preset.target_range)


def _draw_unused(rng: random.Random, preset: Preset, size: int, skip: Container[str]) -> Problem | None:
    """The first of up to _MAX_TRIES candidates from `rng` that fits and is not skipped; None if all miss."""
    for _ in range(_MAX_TRIES):
        nums, target = _draw(rng, preset, size)
        if preset.solvable and not is_solvable(nums, target, rules=preset.rules):
            continue
        candidate = Problem(nums, target)
        if candidate.id not in skip:
            return candidate
    return None


def _problem_at(seed: int, index: int, preset: Preset, skip: Container[str], leftovers: Leftovers) -> Problem | None:
    """The problem for `index`: the first candidate from Random('seed:index') that fits and is not skipped.

    The count of numbers is drawn once per index, so sizes keep their stated odds in the output even though
    smaller problems are rejected as unsolvable more often. Once draws of a size stop finding unused problems
    (its space is nearly used up), that size's unused problems are listed and picked from directly, and when
    none is left the index takes another size. None when the whole space is used.
    """
    # A string seed is hashed with SHA-512 by `random`, so the stream is identical in every process.
    rng = random.Random(f"{seed}:{index}")
    size = rng.choice(preset.sizes)
    if not leftovers.listed(size):
        found = _draw_unused(rng, preset, size, skip)
        if found is not None:
            return found
    # Only an index whose draws all missed, or a later one, gets past here. The first such index used to end the
    # stream with an error, so every index that worked before still gets the same problem (prefix-stable).
    others = sorted(set(preset.sizes) - {size})
    rng.shuffle(others)
    for other in (size, *others):
        found = None if other == size or leftovers.listed(other) else _draw_unused(rng, preset, other, skip)
        found = found or leftovers.take(other, rng)
        if found is not None:
            return found
    return None


def iter_problems(
    *, preset: str = "paper", seed: int = 0, exclude: Iterable[Problem] | None = None, **overrides: object
) -> Iterator[Problem]:
    """The prefix-stable stream `sample_problems` takes its first n from; it ends once the preset's space is used up."""
    from cogbeh.countdown.space import Leftovers  # space.py builds on this module

    chosen = resolve_preset(preset, **overrides)
    skip = {p.id for p in exclude or ()}
    leftovers = Leftovers(chosen, skip)
    for index in itertools.count():
        problem = _problem_at(seed, index, chosen, skip, leftovers)
        if problem is None:
            return
        skip.add(problem.id)
        yield problem


def sample_problems(
    n: int,
    *,
    preset: str = "paper",
    seed: int = 0,
    exclude: Iterable[Problem] | None = None,
    **overrides: object,
) -> list[Problem]:
    """`n` distinct problems; problem i depends only on (seed, i) and the problems before it (prefix-stable).

    A candidate equal to an earlier problem or to one in `exclude` (same numbers in any order, same target) is
    skipped by drawing the next candidate for the same index. Asking for more problems than the preset's space
    holds raises ProblemSupplyError (a ValueError) naming the count, before any is drawn.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    from cogbeh.countdown.space import check_supply  # space.py builds on this module

    exclude = list(exclude or ())
    check_supply(n, preset=preset, exclude=exclude, **overrides)
    return take_problems(n, preset=preset, seed=seed, exclude=exclude, **overrides)


def take_problems(
    n: int, *, preset: str = "paper", seed: int = 0, exclude: Iterable[Problem] | None = None, **overrides: object
) -> list[Problem]:
    """The first `n` problems of the stream, or all of them when the preset's space holds fewer."""
    return list(itertools.islice(iter_problems(preset=preset, seed=seed, exclude=exclude, **overrides), n))
