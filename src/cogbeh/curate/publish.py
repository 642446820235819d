"""Publish `curate rewrite` folders as a Hub dataset: one config per rewrite (rich, minimal), card, Parquet.

A folder is a rewrite when its manifest.json says `"kind": "curate-rewrite"`; publish takes one such folder, or
a folder whose subfolders are rewrites (e.g. rich/ and minimal/ side by side), each becoming one config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh import __version__
from cogbeh.outfolder import FolderError, claim, inside, mark, remove
from cogbeh.runfiles import MANIFEST, RECORDS, json_rows, write_atomic, write_via
from cogbeh.templating import render

#: The manifest `kind` of a `curate rewrite` folder.
REWRITE_KIND = "curate-rewrite"
CARD_TEMPLATE = "card/curate_card.md.jinja"
#: Columns published per row (the rest of a record, e.g. the raw model answer, stays local).
COLUMNS: tuple[str, ...] = ("id", "source_id", "style", "question", "thoughts", "answer", "prompt", "completion")


@dataclass(frozen=True)
class CuratedConfig:
    """One rewrite folder as a Hub config."""

    name: str
    folder: Path
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]


def _manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) and loaded.get("kind") == REWRITE_KIND else None


def rewrite_folders(run_dir: Path) -> list[Path]:
    """`run_dir` itself when it is a rewrite, else its rewrite subfolders (sorted); [] when neither."""
    if _manifest(run_dir) is not None:
        return [run_dir]
    return sorted(p for p in run_dir.iterdir() if p.is_dir() and not p.is_symlink() and _manifest(p) is not None)


def load_configs(run_dir: Path) -> list[CuratedConfig]:
    """The configs to publish; ValueError when a rewrite folder has no rows or unreadable ones."""
    configs = []
    for folder in rewrite_folders(run_dir):
        manifest = _manifest(folder) or {}
        name = str(manifest.get("style") or folder.name) if folder == run_dir else folder.name
        rows = [{k: row.get(k) for k in COLUMNS} for _, row in json_rows(folder / RECORDS)] \
            if (folder / RECORDS).is_file() else []
        if not rows:
            raise ValueError(f"{folder / RECORDS} has no rewritten rows; run `cogbeh-gen curate rewrite` first")
        configs.append(CuratedConfig(name, folder, manifest, rows))
    if len({c.name for c in configs}) != len(configs):
        raise ValueError(f"{run_dir}: two rewrite folders would publish under one config name")
    return configs


def checks_summary(manifest: dict[str, Any]) -> list[str]:
    """One line per check of a rewrite manifest: how many of the checked rewrites passed (kept or not)."""
    checks, lines = manifest.get("checks") or {}, []

    def share(entry: Any) -> str:
        rate = entry.get("rate") if isinstance(entry, dict) else None
        return f"{100 * rate:.1f}%" if isinstance(rate, (int, float)) else "n/a"

    checked = manifest.get("checked", "?")
    if "question" in checks:
        lines.append(f"question found in the document: {share(checks['question'])} of {checked} rewrites")
    if "behaviors" in checks:
        lines.append(f"behaviors as the style requires: {share(checks['behaviors'])}")
    if isinstance(checks.get("answer"), dict):
        outcomes = ", ".join(f"{name.replace('_', ' ')} {share(entry)}" for name, entry in checks["answer"].items())
        lines.append(f"answer against the document's final answer: {outcomes}")
    return lines


def card(configs: list[CuratedConfig], repo_id: str, license: str | None) -> str:
    """README.md: YAML configs naming each config's Parquet file, then the rendered card body."""
    import yaml

    front = {**({"license": license} if license else {}), "tags": ["cogbeh-gen", "cognitive-behaviors", "curate"],
             "configs": [{"config_name": c.name,
                          "data_files": [{"split": "train", "path": f"data/{c.name}/train-*.parquet"}]}
                         for c in configs]}
    entries = [{"name": c.name, "rows": len(c.rows), "style": c.manifest.get("style"),
                "model": c.manifest.get("model"), "checks": checks_summary(c.manifest),
                "source": c.manifest.get("source")} for c in configs]
    body = render(CARD_TEMPLATE, repo_id=repo_id, configs=entries, license=license, package_version=__version__)
    return "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n" + body


def layout(run_dir: Path, folder: Path, repo_id: str, *, license: str | None = None) -> dict[str, dict[str, int]]:
    """Write the local repo folder (data/<config>/train-00000-of-00001.parquet and README.md)."""
    import datasets

    configs = load_configs(run_dir)
    data = {f"data/{c.name}/train-00000-of-00001.parquet": c for c in configs}
    planned = [*data, "README.md"]
    try:
        earlier = claim(folder)
        for name in planned:
            inside(folder, name)
        mark(folder, [*earlier, *planned])
        remove(folder, earlier)
    except FolderError as err:
        raise ValueError(str(err)) from None
    for name, config in data.items():
        rows = config.rows
        write_via(folder / name, lambda tmp, rows=rows: datasets.Dataset.from_list(rows).to_parquet(str(tmp)))
    write_atomic(folder / "README.md", card(configs, repo_id, license))
    mark(folder, planned)
    return {c.name: {"train": len(c.rows)} for c in configs}
