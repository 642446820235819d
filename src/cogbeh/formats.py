"""Dataset formats (--format): Parquet, a saved DatasetDict, TRL conversational, verl/TinyZero; splits by problem."""

from __future__ import annotations

import hashlib
import json
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from cogbeh.behaviors import BEHAVIORS
from cogbeh.countdown import Problem
from cogbeh.prompting import PromptFormat, PromptStyle, as_format, sft_row
from cogbeh.records import Record
from cogbeh.runfiles import write_atomic, write_via

Split = Literal["train", "test"]
FORMATS: tuple[str, ...] = ("parquet", "dataset", "trl", "verl")
#: One line per format, for `cogbeh-gen list` and help.
FORMAT_HELP: dict[str, str] = {
    "parquet": "records as Parquet, one file per split (<fmt>/train.parquet, test.parquet)",
    "dataset": "a DatasetDict saved with save_to_disk (load_from_disk)",
    "trl": "TRL prompt/completion rows (TinyZero raw text by default) plus nums and target, for SFT and GRPO",
    "verl": "verl/TinyZero RL rows: data_source, prompt messages, reward_model ground truth",
}
SPLITS_FILE = "splits.json"
#: TinyZero's reward dispatch keys on this data_source for Countdown.
VERL_DATA_SOURCE = "countdown"


class ExportError(ValueError):
    """Bad format name or test size, or records that overlap the excluded problems."""


def _feature(annotation: Any) -> Any:
    import datasets

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):  # Optional[X]: HF columns are nullable anyway
        return _feature(next(a for a in args if a is not type(None)))
    if origin is list:
        return datasets.List(_feature(args[0]))
    if origin is dict:  # the only dict is behavior_counts: fixed keys, so a struct rather than a map
        return {b: _feature(args[1]) for b in BEHAVIORS}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: _feature(f.annotation) for name, f in annotation.model_fields.items()}
    scalar = {str: "string", int: "int64", bool: "bool", float: "float64"}
    return datasets.Value(scalar[annotation])


@lru_cache(maxsize=1)
def record_features() -> Any:
    """HF Features derived from the Record schema, field for field, in schema order."""
    import datasets

    return datasets.Features({name: _feature(f.annotation) for name, f in Record.model_fields.items()})


def record_row(record: Record) -> dict[str, Any]:
    """A Record as a row matching `record_features()` (every behavior key present)."""
    row = record.model_dump(mode="json")
    row["behavior_counts"] = {b: record.behavior_counts.get(b, 0) for b in BEHAVIORS}
    return row


def row_record(row: Mapping[str, Any]) -> Record:
    """The inverse of `record_row`."""
    return Record.model_validate(dict(row))


def to_trl_conversational(record: Record) -> dict[str, Any]:
    """TRL's conversational prompt-completion row, plus nums and target for rewards (the one conversion)."""
    return {
        "prompt": [{"role": "user", "content": record.prompt}],
        "completion": [{"role": "assistant", "content": record.completion}],
        "nums": list(record.nums),
        "target": record.target,
    }


def to_trl_row(record: Record, *, style: PromptStyle | PromptFormat = "tinyzero") -> dict[str, Any]:
    """The `--format trl` row: the prompt every stage uses (cogbeh.prompting), the record's completion."""
    return sft_row(list(record.nums), record.target, record.completion, style)


def verl_row(
    problem: Problem, prompt: str, *, split: str, index: int, data_source: str = VERL_DATA_SOURCE
) -> dict[str, Any]:
    """A verl/TinyZero RL row: the prompt as messages and the rule reward's ground truth."""
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": prompt}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": {"target": problem.target, "numbers": list(problem.nums)}},
        "extra_info": {"split": split, "index": index},
    }


def split_by_problem(problem_ids: Iterable[str], test_size: float | int, *, seed: int = 0) -> dict[str, Split]:
    """problem id -> split: a seeded shuffle of the distinct ids, the first `test_size` of them to test."""
    import random

    distinct = sorted(set(problem_ids))
    count = held_out_count(len(distinct), test_size)
    random.Random(f"{seed}:split").shuffle(distinct)
    return {pid: ("test" if i < count else "train") for i, pid in enumerate(distinct)}


def held_out_count(problems: int, test_size: float | int) -> int:
    """Problems in the test split: a count as given, a fraction in (0, 1) rounded; ExportError otherwise."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or test_size < 0:
        raise ExportError(f"test size must be a count or a fraction in [0, 1), got {test_size!r}")
    if isinstance(test_size, float) and not test_size.is_integer():
        if test_size >= 1:
            raise ExportError(f"test size {test_size} is neither a whole count nor a fraction below 1")
        return round(test_size * problems)
    if int(test_size) >= problems and test_size:
        raise ExportError(f"test size {int(test_size)} leaves no training problems (only {problems} problems)")
    return int(test_size)


def parse_test_size(text: str) -> float | int:
    """--test-size as typed: '200' is a count of problems, '0.2' a fraction; ExportError otherwise."""
    try:
        value: float | int = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise ExportError(f"--test-size takes a count like 200 or a fraction like 0.2, got {text!r}") from None
    held_out_count(10**9, value)  # the same checks export applies, before any work is done
    return value


def check_exclusion(records: Iterable[Record], exclude: Collection[Problem]) -> None:
    """ExportError if any record's problem is one of the excluded (RL/eval) problems."""
    banned = {p.id for p in exclude}
    clashes = sorted({r.problem_id for r in records if r.problem_id in banned})
    if clashes:
        raise ExportError(f"{len(clashes)} problem(s) overlap the excluded set, e.g. {clashes[0]}")


def _write_parquet(rows: list[dict[str, Any]], path: Path, features: Any = None) -> None:
    import datasets
    import pyarrow.parquet as pq

    # The Arrow table carries the HF features in its schema metadata, so load_dataset restores them exactly;
    # writing it with pyarrow directly skips datasets' progress bars.
    table = datasets.Dataset.from_list(rows, features=features).data.table
    write_via(path, lambda tmp: pq.write_table(table, str(tmp)))


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """Silence datasets' progress bars for the duration, restoring the caller's setting after."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def write_records_parquet(records: list[Record], path: Path) -> None:
    """Records as Parquet with the Record features (the Hub layout uses this too)."""
    _write_parquet([record_row(r) for r in records], path, record_features())


def _split_records(records: list[Record], assignment: Mapping[str, Split]) -> dict[str, list[Record]]:
    splits: dict[str, list[Record]] = {"train": [], "test": []}
    for record in records:
        splits[assignment[record.problem_id]].append(record)
    return {name: rows for name, rows in splits.items() if rows or name == "train"}


def _write_format(
    fmt: str, folder: Path, splits: dict[str, list[Record]], style: PromptStyle | PromptFormat = "tinyzero"
) -> list[Path]:
    import datasets

    if fmt == "dataset":
        built = datasets.DatasetDict(
            {s: datasets.Dataset.from_list([record_row(r) for r in rs], features=record_features())
             for s, rs in splits.items()}
        )
        with quiet_datasets():
            write_via(folder / "dataset", lambda tmp: built.save_to_disk(str(tmp)))
        return [folder / "dataset"]
    written = []
    for split, rows in splits.items():
        path = folder / fmt / f"{split}.parquet"
        if fmt == "parquet":
            write_records_parquet(rows, path)
        elif fmt == "trl":
            _write_parquet([to_trl_row(r, style=style) for r in rows], path)
        elif fmt == "verl":
            problems = [Problem(tuple(r.nums), r.target) for r in rows]
            _write_parquet([verl_row(p, as_format(style).text(p), split=split, index=i)
                            for i, (p, r) in enumerate(zip(problems, rows, strict=True))], path)
        else:
            raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        written.append(path)
    return written


def export(
    folder: Path,
    records: list[Record],
    formats: list[str],
    *,
    test_size: float | int = 0,
    seed: int = 0,
    assignment: Mapping[str, Split] | None = None,
    exclude: Collection[Problem] = (),
    prompt_style: PromptStyle | PromptFormat = "tinyzero",
) -> dict[str, Any]:
    """Write `formats` for `records` under `folder`, split by problem; returns what was written.

    `trl` and `verl` rows carry the prompt of `prompt_style`, the one `train` and `eval` use.

    `assignment` (problem id -> split) overrides `test_size`, so an ablation can impose one split on every
    condition, including filtered ones.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    check_exclusion(records, exclude)
    if assignment is None:
        assignment = split_by_problem((r.problem_id for r in records), test_size, seed=seed)
    missing = {r.problem_id for r in records} - set(assignment)
    if missing:
        raise ExportError(f"{len(missing)} problem(s) have no split, e.g. {sorted(missing)[0]}")
    splits = _split_records(records, assignment)
    files = [p for fmt in dict.fromkeys(formats) for p in _write_format(fmt, folder, splits, prompt_style)]
    summary = {
        "formats": list(dict.fromkeys(formats)),
        "rows": {s: len(rs) for s, rs in splits.items()},
        "test_problems": sorted({r.problem_id for r in splits.get("test", [])}),
        "seed": seed,
        "files": [p.relative_to(folder).as_posix() for p in files],
    }
    if {"trl", "verl"} & set(formats):  # the prompt format of those rows, as `train` records it (prompt.json)
        summary["prompt"] = as_format(prompt_style).to_json()
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    write_atomic(folder / SPLITS_FILE, text)
    return summary


def read_assignment(folder: Path, records: Iterable[Record]) -> dict[str, Split]:
    """The split of each record's problem as recorded in `folder/splits.json` (all train when absent)."""
    path = folder / SPLITS_FILE
    test = set(json.loads(path.read_text(encoding="utf-8"))["test_problems"]) if path.exists() else set()
    return {r.problem_id: ("test" if r.problem_id in test else "train") for r in records}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
