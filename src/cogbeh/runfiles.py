"""The run folder: records.jsonl and rejected.jsonl appended line by line, manifest.json written atomically."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a run folder is then guarded by nothing but --resume's checks
    fcntl = None  # type: ignore[assignment]

RECORDS, REJECTED, MANIFEST, JOB = "records.jsonl", "rejected.jsonl", "manifest.json", "job.json"
#: The advisory lock file; hidden, so that `datasets` never takes it for a data file.
LOCK = ".cogbeh.lock"
OUR_FILES = (RECORDS, REJECTED, MANIFEST, JOB)


class RunFolderError(ValueError):
    """The output folder cannot be used as asked (exists without --resume/--overwrite, unwritable, ...)."""


def prepare(folder: Path, *, resume: bool, overwrite: bool) -> FolderLock:
    """Make sure `folder` can take this run and lock it; creates it only once every check has passed.

    The caller holds the returned lock for the whole run (`with prepare(...):`); a folder another process
    holds is refused before anything in it is touched.
    """
    if resume and overwrite:
        raise RunFolderError("--resume and --overwrite contradict each other; pick one")
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} exists and is not a folder; choose another --out")
    check_not_locked(folder)  # "in use by pid N" says more than "not empty" while another run writes
    if not is_empty(folder) and not (resume or overwrite):
        raise RunFolderError(f"{folder} is not empty; pass --resume to continue it or --overwrite to replace it")
    parent = _existing_ancestor(folder)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot write under {parent}; choose a writable --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunFolderError(f"cannot create {folder}: {err.strerror}; choose a writable --out") from None
    lock = FolderLock(folder).acquire()
    if overwrite:  # only under the lock: never delete what another process is writing
        for name in OUR_FILES:
            (folder / name).unlink(missing_ok=True)
    return lock


def is_empty(folder: Path) -> bool:
    """Whether `folder` is missing or holds nothing but our lock file (left behind by every run)."""
    return not folder.is_dir() or all(path.name == LOCK for path in folder.iterdir())


class FolderLock:
    """One writer per folder: an exclusive flock on FOLDER/.cogbeh.lock, which also records the holder's pid.

    The operating system drops the lock when the holder exits, however it exits (kill -9 included), so a
    lock is never stale; the file stays behind, which is harmless (deleting it would race a new holder).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._handle: TextIO | None = None

    def acquire(self) -> FolderLock:
        """Take the lock at once or raise RunFolderError naming the process that holds it."""
        try:
            handle = (self.folder / LOCK).open("a+", encoding="utf-8")
        except OSError as err:
            raise RunFolderError(f"cannot write in {self.folder}: {err.strerror}; choose a writable --out") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise RunFolderError(_busy(self.folder)) from None
            _forget_in_forked_children(handle)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        """Drop the lock (closing the file is what releases it)."""
        if self._handle is not None:
            _HELD.discard(self._handle)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()


def check_not_locked(folder: Path) -> None:
    """RunFolderError naming the holder's pid when another process holds `folder`'s lock."""
    path = folder / LOCK
    if fcntl is None or not path.is_file():
        return
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:
        return  # unreadable: acquiring will report it
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            raise RunFolderError(_busy(folder)) from None


def _busy(folder: Path) -> str:
    pid = ""
    for _ in range(25):  # the holder writes its pid just after it takes the lock
        try:
            pid = (folder / LOCK).read_text(encoding="utf-8").strip()
        except OSError:
            pid = ""
        if pid:
            break
        time.sleep(0.02)
    holder = f"pid {pid}" if pid else "a process that has not written its pid yet"
    return (f"{folder} is in use by another cogbeh-gen process ({holder}); wait for it to finish "
            "or choose another --out")


#: Lock files this process holds; a forked child (a worker of the generation pool) closes its copies, so a
#: worker orphaned by a kill -9 of its parent cannot keep the folder locked.
_HELD: set[TextIO] = set()
_fork_hook = False


def _forget_in_forked_children(handle: TextIO) -> None:
    global _fork_hook
    if not _fork_hook:
        os.register_at_fork(after_in_child=_close_held)
        _fork_hook = True
    _HELD.add(handle)


def _close_held() -> None:
    for handle in list(_HELD):
        handle.close()  # the child's copy only: the parent still holds the lock
    _HELD.clear()


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def valid_lines(path: Path) -> list[str]:
    """The complete JSON lines of a JSONL file; a torn last line (a crash mid-write) is dropped from disk.

    Any other line that is not a JSON object was damaged after it was written: RunFolderError with its line
    number and the fix, rather than records silently built on top of it.
    """
    if not path.exists():
        return []
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise RunFolderError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); "
                             "restore the file or start over with --overwrite") from None
    lines = raw.split("\n")
    complete, tail = lines[:-1], lines[-1]
    for number, line in enumerate(complete, start=1):
        if line.strip():
            _check_json_object(path, number, line)
    if tail.strip():  # no final newline: the last write was cut off
        write_atomic(path, "".join(line + "\n" for line in complete))
    return [line for line in complete if line.strip()]


def json_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each line of a JSONL file another tool may have written; a torn last line (a
    crash mid-write) is skipped; anything else unreadable is a ValueError naming the line and what was expected."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text; expected JSONL, one JSON object per line") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                break
            raise ValueError(f"{path}:{number}: not JSON ({err.msg}); expected one JSON object per line") from None
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        rows.append((number, row))
    return rows


def _check_json_object(path: Path, number: int, line: str) -> None:
    try:
        ok = isinstance(json.loads(line), dict)
        problem = "not a JSON object"
    except ValueError as err:
        ok, problem = False, f"not valid JSON ({getattr(err, 'msg', err)})"
    if not ok:
        keep = f"cut the file to its first {number - 1} lines (`head -n {number - 1}`)" if number > 1 else "delete it"
        raise RunFolderError(f"{path}:{number}: {problem}; {keep} and --resume again to regenerate the rest, "
                             "or start over with --overwrite")


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


def full_disk(err: OSError, folder: Path) -> RunFolderError | None:
    """The one-line error for a disk (or quota) that filled up while writing `folder`; None for other errors."""
    if err.errno not in (errno.ENOSPC, errno.EDQUOT):
        return None
    return RunFolderError(f"no space left to write {folder} ({err.strerror}); free some space, then run again "
                          "with --resume to continue where it stopped")


def read_job(folder: Path) -> dict[str, Any] | None:
    """The folder's job.json (what its records were made with), or None when there is none."""
    path = folder / JOB
    return read_json_object(path, "start over with --overwrite") if path.is_file() else None


def read_json_object(path: Path, fix: str) -> dict[str, Any]:
    """A JSON object file cogbeh-gen wrote (job.json, manifest.json, ...); RunFolderError naming `fix` when it is
    unreadable or not an object (a damaged or hand-edited file), never a traceback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise RunFolderError(f"{path} is unreadable ({err}); {fix}") from None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path} is not a JSON object; {fix}")
    return data


def write_job(folder: Path, job: dict[str, Any]) -> None:
    """job.json, written atomically before the first record, so a resume can check it was made the same way."""
    write_atomic(folder / JOB, json.dumps(job, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def resume_conflict(folder: Path, changes: list[tuple[str, Any, Any]]) -> RunFolderError:
    """The one error for a --resume whose options differ from the folder's job.json: (option, now, was) each."""
    shown = ", ".join(f"{option} {short_json(now)} (was {short_json(was)})" for option, now, was in changes)
    return RunFolderError(f"--resume with options that differ from those {folder} was made with: {shown}; "
                          "use the same options, another --out, or --overwrite")


def json_digest(value: Any) -> str:
    """Hex sha256 of `value` as `json.dumps` writes it (job identities and manifests compare these)."""
    import hashlib

    return hashlib.sha256(json.dumps(value).encode()).hexdigest()


def short_json(value: Any) -> str:
    """A value as compact JSON for a one-line message, cut to 60 characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """manifest.json, pretty-printed, keys sorted, written atomically."""
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
