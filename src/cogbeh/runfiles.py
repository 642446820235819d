"""The run folder: records.jsonl and rejected.jsonl appended line by line, manifest.json written atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

RECORDS, REJECTED, MANIFEST = "records.jsonl", "rejected.jsonl", "manifest.json"
OUR_FILES = (RECORDS, REJECTED, MANIFEST)


class RunFolderError(ValueError):
    """The output folder cannot be used as asked (exists without --resume/--overwrite, unwritable, ...)."""


def prepare(folder: Path, *, resume: bool, overwrite: bool) -> None:
    """Make sure `folder` can take this run; creates it only once every check has passed."""
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite contradict each other; pick one")
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} exists and is not a folder; choose another --out")
    if folder.is_dir() and any(folder.iterdir()) and not (resume or overwrite):
        raise RunFolderError(f"{folder} is not empty; pass --resume to continue it or --overwrite to replace it")
    parent = _existing_ancestor(folder)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot write under {parent}; choose a writable --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunFolderError(f"cannot create {folder}: {err.strerror}; choose a writable --out") from None
    if overwrite:
        for name in OUR_FILES:
            (folder / name).unlink(missing_ok=True)


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def valid_lines(path: Path) -> list[str]:
    """The complete JSON lines of a JSONL file; a torn last line (a crash mid-write) is dropped from disk."""
    if not path.exists():
        return []
    raw = path.read_text(encoding="utf-8")
    lines = raw.split("\n")
    complete, tail = lines[:-1], lines[-1]
    if tail.strip():  # no final newline: the last write was cut off
        write_atomic(path, "".join(line + "\n" for line in complete))
    return [line for line in complete if line.strip()]


def append_handle(path: Path) -> TextIO:
    """Open `path` for appending lines."""
    return path.open("a", encoding="utf-8")


def write_via(path: Path, write: Callable[[Path], Any]) -> None:
    """Have `write` fill a temp path beside `path` (file or folder), then rename it into place.

    The temp path lives in a fresh private folder, so the written file keeps ordinary (umask) permissions,
    unlike a mkstemp file, which is owner-only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        write(tmp)
        if path.is_dir():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, flushed to disk before the rename."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    write_via(path, write)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """manifest.json, pretty-printed, keys sorted, written atomically."""
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
