"""Problems and presets: seeded sampling, exclusion, preset ranges, validation, and the JSONL / HF round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cogbeh.countdown import (
    PRESETS,
    Problem,
    check,
    is_solvable,
    load_problems,
    problem_from_row,
    problems_from_dataset,
    problems_to_dataset,
    sample_problems,
    save_problems,
    solve,
)

# --- sampling ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_same_seed_same_list_and_prefix_stable(preset: str) -> None:
    first = sample_problems(60, preset=preset, seed=7)
    assert sample_problems(60, preset=preset, seed=7) == first
    assert sample_problems(25, preset=preset, seed=7) == first[:25]
    assert sample_problems(60, preset=preset, seed=8) != first
    assert sample_problems(0, preset=preset) == []


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_no_duplicates_even_up_to_order(preset: str) -> None:
    problems = sample_problems(300, preset=preset, seed=1)
    keys = [(tuple(sorted(p.nums)), p.target) for p in problems]
    assert len(set(keys)) == len(keys)


def test_duplicates_are_skipped_in_a_tight_space() -> None:
    # two numbers in 1..2 and a target in 1..4: exactly 7 solvable problems exist, and all 7 are found
    problems = sample_problems(7, preset="paper", sizes=(2,), num_range=(1, 2), target_range=(1, 4))
    assert sorted(p.id for p in problems) == ["1-1_1", "1-1_2", "1-2_1", "1-2_2", "1-2_3", "2-2_1", "2-2_4"]


def test_exclude_guarantees_no_overlap_whatever_the_order() -> None:
    taken = sample_problems(150, preset="paper", seed=0)
    reordered = [Problem(tuple(reversed(p.nums)), p.target) for p in taken]
    fresh = sample_problems(150, preset="paper", seed=0, exclude=reordered)
    assert not {p.id for p in fresh} & {p.id for p in taken}
    assert len({p.id for p in fresh}) == 150
    # still a pure function of (seed, index, exclude): same call, same list; prefix stable
    assert sample_problems(60, preset="paper", seed=0, exclude=iter(reordered)) == fresh[:60]


def test_paper_preset_ranges_and_even_sizes() -> None:
    problems = sample_problems(400, preset="paper", seed=3)
    sizes = Counter(len(p.nums) for p in problems)
    assert set(sizes) == {3, 4}
    assert 0.4 <= sizes[3] / 400 <= 0.6
    assert all(1 <= n <= 24 for p in problems for n in p.nums)
    assert all(10 <= p.target <= 25 for p in problems)
    assert all(is_solvable(p.nums, p.target, rules="integer") for p in problems)


def test_tinyzero_preset_ranges_and_even_sizes() -> None:
    problems = sample_problems(400, preset="tinyzero", seed=3)
    sizes = Counter(len(p.nums) for p in problems)
    assert set(sizes) == {3, 4}
    assert 0.4 <= sizes[3] / 400 <= 0.6
    assert all(1 <= n <= 99 for p in problems for n in p.nums)
    assert all(10 <= p.target <= 100 for p in problems)
    assert max(n for p in problems for n in p.nums) > 90  # the whole range is used
    assert all(is_solvable(p.nums, p.target, rules="integer") for p in problems)


def _is_classic_draw(nums: tuple[int, ...]) -> bool:
    counts = Counter(nums)
    small_ok = all(counts[n] <= 2 for n in range(1, 11))
    large_ok = all(counts[n] <= 1 for n in (25, 50, 75, 100))
    return len(nums) == 6 and small_ok and large_ok and set(nums) <= set(range(1, 11)) | {25, 50, 75, 100}


def test_classic_preset_draws_from_the_bag() -> None:
    problems = sample_problems(150, preset="classic", seed=5)
    assert all(_is_classic_draw(p.nums) for p in problems)
    assert all(101 <= p.target <= 999 for p in problems)
    assert all(is_solvable(p.nums, p.target, rules="classic") for p in problems)
    assert len({sum(n > 10 for n in p.nums) for p in problems}) == 5  # 0 to 4 large tiles all occur


def test_classic_keeps_unsolvable_on_request() -> None:
    problems = sample_problems(200, preset="classic", seed=0, solvable=False)
    assert all(_is_classic_draw(p.nums) and 101 <= p.target <= 999 for p in problems)
    assert any(not is_solvable(p.nums, p.target, rules="classic") for p in problems)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_sampled_problems_have_checked_solutions(preset: str) -> None:
    rules = PRESETS[preset].rules
    for problem in sample_problems(40, preset=preset, seed=11):
        (solution,) = solve(problem.nums, problem.target, rules=rules, limit=1)
        assert check(solution, problem.nums, problem.target, rules=rules)


@pytest.mark.parametrize(
    ("preset", "overrides", "key"),
    [
        ("paper", {"colour": "red"}, "colour"),
        ("paper", {"rules": "fuzzy"}, "rules"),
        ("paper", {"target_range": (10, 5)}, "target_range"),
        ("paper", {"num_range": (0, 5)}, "num_range"),
        ("paper", {"num_range": (5,)}, "num_range"),
        ("paper", {"sizes": ()}, "sizes"),
        ("paper", {"sizes": (0,)}, "sizes"),
        ("classic", {"large": (3, 1)}, "large"),
        ("classic", {"bag": (1, 2, 3)}, "bag"),
        ("classic", {"bag": (25, 50, 75, 100, 1, 2)}, "bag"),  # six tiles, but a draw may need six small ones
    ],
)
def test_bad_overrides_raise_value_error_naming_the_key(preset: str, overrides: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        sample_problems(3, preset=preset, **overrides)


def test_bad_preset_and_count() -> None:
    with pytest.raises(ValueError, match="nope"):
        sample_problems(3, preset="nope")
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError):
            sample_problems(bad)  # type: ignore[arg-type]


def test_impossible_preset_fails_instead_of_looping() -> None:
    with pytest.raises(ValueError):
        sample_problems(1, preset="paper", sizes=(2,), num_range=(1, 1), target_range=(1000, 1000))


_CROSS_PROCESS = """
from cogbeh.countdown import reachable, sample_problems, solve
for preset, n in (("paper", 200), ("tinyzero", 200), ("classic", 40)):
    for p in sample_problems(n, preset=preset, seed=42):
        print(preset, p.id, p.nums, p.target)
for p in sample_problems(20, preset="paper", seed=42):
    print(solve(p.nums, p.target), solve(p.nums, p.target, rules="integer", limit=3))
for p in sample_problems(3, preset="classic", seed=42):
    print(solve(p.nums, p.target, rules="classic", limit=5), sorted(reachable(p.nums, rules="classic"))[-5:])
print(sample_problems(50, preset="paper", seed=42, exclude=sample_problems(50, preset="paper", seed=42))[-1])
"""


def test_byte_identical_across_processes_with_different_hash_seeds() -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", _CROSS_PROCESS], env=env, capture_output=True, check=True, timeout=120
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 200 + 200 + 40 + 20 + 3 + 1


# --- Problem -------------------------------------------------------------------------------------------


def test_problem_id_ignores_order() -> None:
    a, b = Problem((25, 30, 3, 4), 32), Problem((4, 3, 30, 25), 32)
    assert a.id == b.id == "3-4-25-30_32"
    assert Problem((25, 30, 3, 4), 33).id != a.id
    assert Problem((2, 22), 24).id != Problem((22, 2, 2), 24).id != Problem((2, 2, 2), 24).id


def test_problem_is_frozen_hashable_and_tuple_valued() -> None:
    problem = Problem([3, 4], 7)  # type: ignore[arg-type]
    assert problem.nums == (3, 4)
    assert problem in {problem}
    with pytest.raises(AttributeError):
        problem.target = 8  # type: ignore[misc]
    assert problem.to_dict() == {"nums": [3, 4], "target": 7}


@pytest.mark.parametrize(
    ("nums", "target", "message"),
    [
        ((), 3, "nums"),
        ((0, 3), 3, "nums"),
        ((-1, 3), 3, "nums"),
        ((True, 3), 3, "nums"),
        ((1.0, 3), 3, "nums"),
        (("3", 4), 3, "nums"),
        ((3, 4), 7.0, "target"),
        ((3, 4), "7", "target"),
        ((3, 4), None, "target"),
        ((3, 4), True, "target"),
    ],
)
def test_problem_validation(nums: tuple, target: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Problem(nums, target)  # type: ignore[arg-type]


# --- files and datasets --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return sample_problems(30, preset="paper", seed=2)


def test_jsonl_round_trip(problems: list[Problem], tmp_path: Path) -> None:
    path = save_problems(problems, tmp_path / "sub" / "problems.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30
    assert json.loads(lines[0]) == {"nums": list(problems[0].nums), "target": problems[0].target}
    assert load_problems(path) == problems
    assert [p.name for p in path.parent.iterdir()] == ["problems.jsonl"]  # no temp file left behind


def test_saved_file_permissions_follow_the_umask(problems: list[Problem], tmp_path: Path) -> None:
    # a temp file renamed into place must not stay private (0600) when the user's umask says otherwise
    umask = os.umask(0o022)
    try:
        path = save_problems(problems, tmp_path / "problems.jsonl")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_jsonl_bad_row_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"nums": [3, 4], "target": 7}\n\n{"nums": [3, 0], "target": 7}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        load_problems(path)


def test_problem_from_row_accepts_numbers_alias_and_rejects_junk() -> None:
    assert problem_from_row({"numbers": [3, 4], "target": 7}) == Problem((3, 4), 7)
    for row in ({"nums": [3, 4]}, {"nums": "34", "target": 7}, {"nums": [3.5], "target": 7}):
        with pytest.raises(ValueError):
            problem_from_row(row)


def test_dataset_round_trip(problems: list[Problem]) -> None:
    dataset = problems_to_dataset(problems)
    assert dataset.column_names == ["nums", "target"]
    assert dataset.features["target"].dtype == "int64"
    assert dataset[0] == {"nums": list(problems[0].nums), "target": problems[0].target}
    assert problems_from_dataset(dataset) == problems
    with pytest.raises(ValueError, match="target"):
        problems_from_dataset(dataset.remove_columns("target"))


def test_load_problems_from_saved_folders_and_parquet(problems: list[Problem], tmp_path: Path) -> None:
    import datasets

    dataset = problems_to_dataset(problems)
    dataset.save_to_disk(str(tmp_path / "single"))
    assert load_problems(tmp_path / "single") == problems

    datasets.DatasetDict({"train": dataset, "test": problems_to_dataset(problems[:5])}).save_to_disk(
        str(tmp_path / "dict")
    )
    assert load_problems(tmp_path / "dict") == problems
    assert load_problems(tmp_path / "dict", split="test") == problems[:5]
    with pytest.raises(ValueError, match="validation"):
        load_problems(tmp_path / "dict", split="validation")

    dataset.to_parquet(str(tmp_path / "problems.parquet"))
    assert load_problems(tmp_path / "problems.parquet") == problems

    with pytest.raises(ValueError):
        load_problems(tmp_path / "missing.jsonl")
