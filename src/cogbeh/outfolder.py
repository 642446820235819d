"""Folders publish writes into: every path confined to its folder, and a marker listing what publish wrote there,
so that a re-publish removes only those files and never anything else."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

#: Marks a folder publish made; holds {"files": [...]}, the paths (relative, '/'-separated) publish wrote. It sits
#: where huggingface_hub keeps a local folder's own metadata, which upload_folder and `hf upload` never send.
MARKER = ".cache/huggingface/cogbeh-publish.json"


class FolderError(ValueError):
    """A path leaves its folder, or a folder holds files that publish did not write."""


def confined(base: Path, path: Path) -> Path:
    """`path`, refused unless it stays inside `base` once symbolic links are followed."""
    if not path.resolve().is_relative_to(base.resolve()):
        raise FolderError(f"{path} leads outside {base} (through '..' or a symbolic link); publish reads and "
                          "writes only inside its folders")
    return path


def inside(base: Path, relative: str) -> Path:
    """base/relative for a plain relative path: no absolute path, no '..', no escape through a link."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or "\\" in relative or ".." in parts or ":" in parts[0]:
        raise FolderError(f"{relative!r} is not a plain path inside {base}; publish reads and writes only inside "
                          "its folders")
    return confined(base, base.joinpath(*parts))


def claim(folder: Path) -> list[str]:
    """What an earlier publish wrote in `folder` ([] for a new or empty one); refuses any other non-empty folder."""
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{folder} is a file, not a folder; choose another --out")
    if not folder.is_dir() or not any(folder.iterdir()):
        return []
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file() or not marker.resolve().is_relative_to(folder.resolve()):
        raise FolderError(f"{folder} is not empty and is not a dataset folder written by publish (it has no "
                          f"{MARKER}); choose a new or empty --out")
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        files = None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise FolderError(f"{marker} is damaged; choose a new or empty --out (or delete {folder} yourself)")
    for name in files:  # every entry checked before anything is removed
        inside(folder, name)
    return files


def mark(folder: Path, files: list[str]) -> None:
    """Record `files` as publish's own in `folder` (written before them, so a publish cut short still knows)."""
    marker = inside(folder, MARKER)
    marker.parent.mkdir(parents=True, exist_ok=True)
    temporary = marker.with_name(marker.name + ".tmp")
    temporary.write_text(json.dumps({"files": sorted(set(files))}, indent=1) + "\n", encoding="utf-8")
    temporary.replace(marker)


def remove(folder: Path, files: list[str]) -> None:
    """Delete `files` (publish's own, from the marker) and the folders they leave empty; nothing else."""
    for name in files:
        path = inside(folder, name)
        if path.is_file():
            path.unlink()
        for parent in path.parents:
            if parent == folder or not parent.is_relative_to(folder):
                break
            try:
                parent.rmdir()  # only an empty folder goes; one holding anything else stays
            except OSError:
                break
