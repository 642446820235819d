"""Reading labelled rows (`curate classify` output, or any JSONL / Parquet of rows) for select, distill, agree."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json.gz")):
        return "jsonl"
    return "parquet" if name.endswith(".parquet") else None


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files the arguments name: a file itself; a folder's labelled/ files (a classify output folder), else the
    JSONL/Parquet files below it, sorted. ValueError names a missing path or a folder without any."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            root = path / "labelled" if (path / "labelled").is_dir() else path
            found = sorted(p for p in root.rglob("*") if p.is_file() and _kind(p) and not p.name.startswith("."))
            if not found:
                raise ValueError(f"{path}: no labelled .jsonl files (or .parquet) in {root}; pass the folder "
                                 "`curate classify --out` wrote or its labelled/*.jsonl files")
            files.extend(found)
        else:
            raise ValueError(f"{path}: no such file or folder")
    if not files:
        raise ValueError("no labelled files given")
    for path in files:
        if _kind(path) is None:
            raise ValueError(f"{path}: expected a .jsonl or .parquet file of labelled rows")
    return files


def read_rows(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Every row of the input files, in file order; a datatrove row keeping its labels under `metadata` is
    flattened. ValueError names the file (and line) of anything unreadable."""
    for path in input_files(paths):
        rows = _parquet_rows(path) if _kind(path) == "parquet" else _jsonl_rows(path)
        for row in rows:
            metadata = row.get("metadata")
            yield {**metadata, **row} if isinstance(metadata, dict) else row


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise ValueError(f"{path}: not a Parquet file ({' '.join(str(err).split())[:200]})") from None


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}:{number}: not a JSON line ({err.msg})") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{path}:{number}: a labelled row must be a JSON object, "
                                     f"got {type(row).__name__}")
                yield row
    except (UnicodeDecodeError, OSError) as err:
        raise ValueError(f"{path}: cannot read it as UTF-8 JSONL ({type(err).__name__})") from None
