"""Problem sets as JSONL files and as HF datasets with `nums`/`target` columns."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cogbeh.countdown.problem import Problem
from cogbeh.countdown.rules import whole_number


def problem_from_row(row: dict[str, Any]) -> Problem:
    """A Problem from a mapping with `nums` (or `numbers`) and `target`; ValueError naming what is wrong."""
    nums = row.get("nums", row.get("numbers"))
    target = row.get("target")
    if not isinstance(nums, (list, tuple)) or target is None:
        raise ValueError("row needs a 'nums' list and a 'target'")
    # Whole floats (3.0, as float Parquet columns hold) are those integers; 3.5 is refused, never truncated.
    return Problem(tuple(whole_number(n, "each of 'nums'") for n in nums), whole_number(target, "'target'"))


def save_problems(problems: Iterable[Problem], path: str | Path) -> Path:
    """Write JSONL ({"nums": [...], "target": t} per line) atomically: a temp file renamed into place."""
    from cogbeh.runfiles import write_atomic

    path = Path(path)
    write_atomic(path, "".join(json.dumps(p.to_dict(), separators=(",", ":")) + "\n" for p in problems))
    return path


def load_problems(source: str | Path, *, split: str = "train") -> list[Problem]:
    """Problems from a JSONL file, a Parquet file, or a local HF dataset folder (saved or Hub-style)."""
    path = Path(source)
    if path.is_file() and path.suffix in (".jsonl", ".json"):
        return _load_jsonl(path)
    if path.is_file() and path.suffix == ".parquet":
        import pyarrow.parquet as pq  # datasets' own Parquet engine; imported late to keep start-up light

        return problems_from_rows(pq.read_table(path).to_pylist())
    if path.is_dir():
        return problems_from_dataset(_load_dataset_folder(path, split))
    raise ValueError(f"{source}: not a .jsonl/.parquet file or a dataset folder")


def _load_jsonl(path: Path) -> list[Problem]:
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            problems.append(problem_from_row(json.loads(line)))
        except (ValueError, AttributeError) as err:
            raise ValueError(f"{path}:{number}: {err}") from None
    return problems


def _load_dataset_folder(path: Path, split: str) -> Any:
    import datasets

    if (path / "dataset_dict.json").exists() or (path / "dataset_info.json").exists():
        loaded = datasets.load_from_disk(str(path))
    else:
        loaded = datasets.load_dataset(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"{path}: no split {split!r} (has {', '.join(loaded)})")
        return loaded[split]
    return loaded


def problems_from_rows(rows: Iterable[dict[str, Any]]) -> list[Problem]:
    """Problems from row mappings (e.g. a list of dicts read from Parquet); ValueError naming the bad row."""
    problems = []
    for number, row in enumerate(rows, start=1):
        try:
            problems.append(problem_from_row(row))
        except (ValueError, AttributeError) as err:
            raise ValueError(f"row {number}: {err}") from None
    return problems


def problems_from_dataset(dataset: Any) -> list[Problem]:
    """Problems from an HF `datasets.Dataset` with `nums` and `target` columns."""
    missing = {"nums", "target"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"dataset lacks column(s) {', '.join(sorted(missing))}")
    return problems_from_rows({"nums": n, "target": t} for n, t in zip(dataset["nums"], dataset["target"], strict=True))


def problems_to_dataset(problems: Iterable[Problem]) -> Any:
    """An HF `datasets.Dataset` shaped like Jiayi-Pan/Countdown-Tasks-3to4 (columns nums, target)."""
    import datasets

    rows = [p.to_dict() for p in problems]
    features = datasets.Features({"nums": datasets.List(datasets.Value("int64")), "target": datasets.Value("int64")})
    return datasets.Dataset.from_list(rows, features=features)
