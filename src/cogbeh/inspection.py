"""Look inside a dataset of traces: counts, correctness, behaviors by the rule classifier, lengths, a plot.

Reads a run or ablation folder, a records JSONL, a Parquet file, a folder saved by `datasets`, a Hub-style
folder, or a Hub dataset id (`user/name[:config]`) the way a Hub user would, with `datasets.load_dataset`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify.table import BehaviorTable, completion_text, condition_of, tabulate
from cogbeh.stats import NGRAM_SAMPLE, distinct_ngram_ratio, length_stats

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(:[\w.-]+)?")
_SPLIT_NAMES = ("train", "test", "validation")


class InspectError(ValueError):
    """The source cannot be read, or holds no traces to inspect."""


@dataclass(frozen=True)
class Row:
    """One trace, reduced to what the report measures."""

    group: str  # the record's condition, or its config where the source has several
    split: str
    text: str
    correct: bool | None  # None: the row says nothing, and has no nums/target to check its answer against


@dataclass(frozen=True)
class Loaded:
    """What a source held: its kind, its rows, and where correctness came from."""

    source: str
    kind: str
    rows: list[Row]
    correct_from: str | None


def load(source: str, *, split: str | None = None, limit: int | None = None) -> Loaded:
    """Rows of `source` (every split, or only `split`), at most `limit` per config and split."""
    path = Path(source)
    folder, _, chosen = source.rpartition(":")
    if path.is_file():
        kind, configs = _read_file(path)
    elif path.is_dir():
        kind, configs = _read_folder(path, split)
    elif folder and chosen and Path(folder).is_dir():  # FOLDER:CONFIG, one config of a Hub-style folder
        kind, configs = "dataset folder", _read_dataset(folder, chosen, split)
    elif _HUB_ID.fullmatch(source):
        repo, _, config = source.partition(":")
        kind, configs = "Hub dataset", _read_dataset(repo, config or None, split)
    else:
        raise InspectError(f"{source}: no such file or folder, and not a Hub dataset id (user/name[:config])")
    several = len(configs) > 1
    rows: list[Row] = []
    sources: set[str] = set()
    for config, parts in configs.items():
        for part, raw in parts.items():
            if split is not None and part != split:
                continue
            for number, row in enumerate(raw[:limit] if limit else raw, start=1):
                where = f"{source}: {config + '/' if several else ''}{part} row {number}"
                rows.append(_row(row, config if several else None, part, sources, where))
    if not rows:
        where = f" in split {split!r}" if split else ""
        raise InspectError(f"{source}: no records{where}")
    correct_from = " and ".join(sorted(sources)) if sources else None
    return Loaded(source, kind, rows, correct_from)


def _row(row: Mapping[str, Any], config: str | None, split: str, sources: set[str], where: str) -> Row:
    text = completion_text(row)
    if text is None:
        raise InspectError(f"{where}: no 'completion' (or 'text') field; inspect reads "
                           "generated traces (not prompt-only sets such as --format verl)")
    return Row(config or condition_of(row), split, text, _correct(row, text, sources))


def _correct(row: Mapping[str, Any], text: str, sources: set[str]) -> bool | None:
    if isinstance(row.get("correct"), bool):
        sources.add("the records' `correct` field")
        return bool(row["correct"])
    nums, target = row.get("nums"), row.get("target")
    if isinstance(nums, list) and all(isinstance(n, int) for n in nums) and isinstance(target, int):
        from cogbeh.countdown import score

        sources.add("answers checked against nums/target")
        return score(text, nums, target) == 1.0
    return None


Configs = dict[str, dict[str, list[Mapping[str, Any]]]]  # config -> split -> rows


def _read_file(path: Path) -> tuple[str, Configs]:
    part = path.stem if path.stem in _SPLIT_NAMES else "train"
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq  # datasets' own Parquet engine

        try:
            return "Parquet file", {path.stem: {part: pq.read_table(path).to_pylist()}}
        except Exception as err:  # pyarrow raises its own error types for a file that is not Parquet
            raise InspectError(f"{path}: not a readable Parquet file ({_first_line(err)})") from None
    if path.suffix in (".jsonl", ".json"):
        return "JSONL file", {path.stem: {part: _read_jsonl(path)}}
    raise InspectError(f"{path}: not a .jsonl or .parquet file, a run folder, a dataset folder or a Hub id")


def _read_jsonl(path: Path) -> list[Mapping[str, Any]]:
    from cogbeh.runfiles import json_rows

    try:
        return [row for _, row in json_rows(path)]
    except ValueError as err:
        raise InspectError(str(err)) from None


def _read_folder(path: Path, split: str | None) -> tuple[str, Configs]:
    if (path / "records.jsonl").is_file():
        return "run folder", {path.name: _run_splits(path)}
    manifest = path / "manifest.json"
    if manifest.is_file():
        order = json.loads(manifest.read_text(encoding="utf-8")).get("config_order")
        if isinstance(order, list) and order:
            # Confined to the folder: a config name never reaches outside it.
            names = [n for n in order if isinstance(n, str) and (path / n).resolve().parent == path.resolve()]
            found = [n for n in names if (path / n / "records.jsonl").is_file()]
            return "ablation folder", {n: _run_splits(path / n) for n in found}
    if (path / "dataset_dict.json").is_file() or (path / "dataset_info.json").is_file():
        return "saved dataset", _read_saved(path)
    return "dataset folder", _read_dataset(str(path), None, split)


def _run_splits(folder: Path) -> dict[str, list[Mapping[str, Any]]]:
    """A run folder's records, split as its splits.json says (all train without one)."""
    rows = _read_jsonl(folder / "records.jsonl")
    splits_file = folder / "splits.json"
    test = set(json.loads(splits_file.read_text(encoding="utf-8")).get("test_problems", [])) \
        if splits_file.is_file() else set()
    parts: dict[str, list[Mapping[str, Any]]] = {"train": [], "test": []}
    for row in rows:
        parts["test" if row.get("problem_id") in test else "train"].append(row)
    return {name: part for name, part in parts.items() if part}


def _read_saved(path: Path) -> Configs:
    import datasets

    from cogbeh.formats import quiet_datasets

    try:
        with quiet_datasets():
            loaded = datasets.load_from_disk(str(path))
    except Exception as err:  # datasets raises many unrelated types for a damaged folder
        raise InspectError(f"cannot load saved dataset {path}: {_first_line(err)}") from None
    parts = loaded if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
    return {path.name: {name: part.to_list() for name, part in parts.items()}}


def _read_dataset(repo: str, config: str | None, split: str | None) -> Configs:
    """Every config (or only `config`) of a Hub id or Hub-style folder, via datasets.load_dataset."""
    import datasets

    from cogbeh.formats import quiet_datasets

    source = f"{repo}:{config}" if config else repo
    try:
        names = [config] if config else datasets.get_dataset_config_names(repo)
        configs: Configs = {}
        for name in names:
            with quiet_datasets():  # datasets' own "Generating train split" bars are noise here
                loaded = datasets.load_dataset(repo, name, **({"split": split} if split else {}))
            parts = {split: loaded} if split else dict(loaded)
            configs[name] = {part: data.to_list() for part, data in parts.items()}
    except Exception as err:  # datasets raises many unrelated types for a bad id, folder, config or split
        raise InspectError(f"cannot load dataset {source!r}: {_first_line(err)}") from None
    return configs


def _first_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300] or type(err).__name__


def _rate(values: Iterable[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def report(loaded: Loaded, table: BehaviorTable | None = None) -> dict[str, Any]:
    """The figures `inspect` prints: counts, correctness, lengths, variety, and the behavior table."""
    rows = loaded.rows
    table = table or tabulate((r.group, r.text) for r in rows)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    texts = [r.text for r in rows]
    return {
        "source": loaded.source,
        "kind": loaded.kind,
        "records": len(rows),
        "splits": {s: sum(r.split == s for r in rows) for s in dict.fromkeys(r.split for r in rows)},
        "correct_rate": _rate(r.correct for r in rows),
        "correct_from": loaded.correct_from,
        **length_stats(texts),
        "distinct_4gram_ratio": distinct_ngram_ratio(texts[:NGRAM_SAMPLE]),
        "distinct_4gram_sample": min(len(texts), NGRAM_SAMPLE),
        "groups": {
            name: {"records": len(members), "correct_rate": _rate(r.correct for r in members),
                   **length_stats([r.text for r in members])}
            for name in table.conditions() for members in [groups[name]]
        },
        "classifier": "rules",
        "behaviors": table.to_dict(),
    }


def plot(loaded: Loaded, table: BehaviorTable, path: Path) -> Path:
    """Two panels: mean behavior counts per condition (rule classifier) and a completion-length histogram."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    names = table.conditions()
    # Stacked, not side by side: both panels get the full width however many conditions there are.
    figure, (bars, hist) = plt.subplots(2, 1, figsize=(max(8.0, 0.9 * len(names) + 4), 9), dpi=100)
    width = 0.8 / len(BEHAVIORS)
    for offset, behavior in enumerate(BEHAVIORS):
        means = [table.by_condition[n].mean(behavior) for n in names]
        bars.bar([i + (offset - (len(BEHAVIORS) - 1) / 2) * width for i in range(len(names))], means, width,
                 label=behavior.replace("_", " "))
    tilted = len(names) > 2  # long condition names overlap when laid flat
    bars.set_xticks(range(len(names)), names, rotation=30 if tilted else 0,
                    ha="right" if tilted else "center", fontsize=9)
    if len(names) == 1:  # one condition: keep its four bars at a normal width
        bars.set_xlim(-1.5, 1.5)
    bars.set_ylabel("mean count per record")
    bars.set_ylim(bottom=0)
    bars.set_title("Behaviors per condition (rule classifier)")
    bars.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    bars.grid(axis="y", alpha=0.3)
    lengths = {n: [len(r.text.split()) for r in loaded.rows if r.group == n] for n in names}
    top = max(max(v) for v in lengths.values()) if any(lengths.values()) else 1
    bins = list(range(0, top + max(1, top // 40) + 1, max(1, top // 40)))
    for name in names:
        hist.hist(lengths[name], bins=bins, histtype="step", linewidth=1.6,
                  label=f"{name} (n={len(lengths[name])})")
    hist.set_xlabel("completion length (words)")
    hist.set_ylabel("records")
    hist.set_title("Completion length")
    hist.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    hist.grid(alpha=0.3)
    figure.suptitle(f"{loaded.source}: {len(loaded.rows)} records ({loaded.kind})", fontsize=12)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    plt.close(figure)
    return path
