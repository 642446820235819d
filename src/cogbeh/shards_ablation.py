"""Merge the shards of an ablation (`cogbeh-gen ablation SPEC --shard i/N`) and finish it as one ablation.

Each shard generates every unit on the indices i mod N of the shared problem list until its quota of indices is
accepted by every unit. Merge joins each unit's outcomes by index, finds the index of the (n_train + n_test)-th
problem accepted by every unit, checks that every shard scanned that far, cuts there, and lets `run_ablation`
finish the folder as a resume that has nothing left to generate: the split, controls and formats come out as
the unsharded ablation's.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cogbeh.runfiles import (
    MANIFEST,
    RECORDS,
    REJECTED,
    check_not_locked,
    is_empty,
    prepare,
    read_json_object,
    write_atomic,
    write_job,
    write_manifest,
)
from cogbeh.shards import MergeError, line_index, read_lines

SPEC_COPY, PROBLEMS = "spec.json", "problems.jsonl"


def is_ablation(folder: Path) -> bool:
    """Whether `folder` was made by `cogbeh-gen ablation` (it holds the spec.json an ablation writes first)."""
    return (folder / SPEC_COPY).is_file()


def _load(folder: Path) -> dict[str, Any]:
    if not (folder / MANIFEST).is_file():
        raise MergeError(f"{folder} has no {MANIFEST}: the ablation shard did not finish; rerun it with --resume")
    check_not_locked(folder)
    fingerprint = read_json_object(folder / SPEC_COPY, "rerun that ablation shard with --overwrite")
    if "shard" not in fingerprint:
        raise MergeError(f"{folder} is not a shard (its ablation had no --shard); merge only the N folders of "
                         "one sharded ablation")
    manifest = read_json_object(folder / MANIFEST, "rerun that ablation shard with --overwrite")
    index, count = fingerprint["shard"]
    return {"folder": folder, "fingerprint": fingerprint, "manifest": manifest, "index": index, "count": count}


def _check_set(shards: list[dict[str, Any]]) -> None:
    first = shards[0]
    same = {k: v for k, v in first["fingerprint"].items() if k != "shard"}
    for shard in shards:
        if shard["count"] != first["count"]:
            raise MergeError(f"{shard['folder']} is a shard of {shard['count']}, {first['folder']} of "
                             f"{first['count']}; merge the N folders of one sharded ablation")
        if {k: v for k, v in shard["fingerprint"].items() if k != "shard"} != same:
            raise MergeError(f"{shard['folder']} was made from another spec or with other options than "
                             f"{first['folder']}; merge shards of one ablation only")
    seen: dict[int, Path] = {}
    for shard in shards:
        if shard["index"] in seen:
            raise MergeError(f"shard {shard['index']}/{first['count']} is given twice ({seen[shard['index']]} "
                             f"and {shard['folder']})")
        seen[shard["index"]] = shard["folder"]
    missing = [f"{i}/{first['count']}" for i in range(first["count"]) if i not in seen]
    if missing:
        raise MergeError(f"shard(s) {', '.join(missing)} missing; pass all {first['count']} shard folders")


def _unit_lines(shards: list[dict[str, Any]], generated: str) -> tuple[list[str], list[str], list[int]]:
    """One unit's record and rejection lines over all shards, in index order, and each shard's last index."""
    records, rejected, scanned = [], [], []
    for shard in shards:
        folder = shard["folder"] / generated
        mine, theirs = read_lines(folder / RECORDS), read_lines(folder / REJECTED)
        records.append(mine)
        rejected.append(theirs)
        scanned.append(max(map(line_index, mine[-1:] + theirs[-1:]), default=-1))
    return list(heapq.merge(*records, key=line_index)), list(heapq.merge(*rejected, key=line_index)), scanned


def merge_ablations(folders: Iterable[Path], out: Path, *, log: Callable[[str], None] = print,
                    progress: bool = False) -> dict[str, Any]:
    """Join the N shard folders of one ablation into `out` and finish it there; returns its manifest."""
    from cogbeh.ablation import GENERATED, run_ablation, unit_config, units_for
    from cogbeh.countdown import load_problems
    from cogbeh.pipeline import job_identity
    from cogbeh.spec import RunSpec

    shards = sorted((_load(Path(f)) for f in folders), key=lambda s: s["index"])
    _check_set(shards)
    if not is_empty(out):
        raise MergeError(f"{out} is not empty; merge into a new folder")
    fingerprint = {k: v for k, v in shards[0]["fingerprint"].items() if k != "shard"}
    spec = RunSpec.model_validate(fingerprint["spec"])
    units = units_for(spec, fingerprint["provider"])
    lines = {u.config: _unit_lines(shards, f"{u.config}/{GENERATED}") for u in units}
    need = spec.n_train + spec.n_test
    accepted = [{line_index(line) for line in records} for records, _, _ in lines.values()]
    common = sorted(set.intersection(*accepted))
    if len(common) < need:
        raise MergeError(f"the shards hold {len(common)} problems accepted by every condition, fewer than the "
                         f"{need} the spec asks for; rerun the shards with --resume")
    cut = common[need - 1]
    count = shards[0]["count"]
    for config, (_, _, scanned) in lines.items():
        for shard, last in zip(shards, scanned, strict=True):
            needed = cut - (cut - shard["index"]) % count
            if needed >= 0 and last < needed:
                raise MergeError(f"shard {shard['index']}/{count} ({shard['folder']}) stopped {config} at index "
                                 f"{last}, before index {needed} that the merged ablation needs")
    problems = max((load_problems(s["folder"] / PROBLEMS) for s in shards), key=len)[: cut + 1]
    with prepare(out, resume=False, overwrite=False):
        write_atomic(out / SPEC_COPY, json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")
        for unit in units:
            records, rejected, _ = lines[unit.config]
            folder = unit.folder(out)
            write_atomic(folder / RECORDS, "".join(f"{line}\n" for line in records if line_index(line) <= cut))
            write_atomic(folder / REJECTED, "".join(f"{line}\n" for line in rejected if line_index(line) < cut))
            # As if the unsharded ablation had generated this unit through the cut: a resume checks it.
            write_job(folder, job_identity(unit_config(unit, spec, problems, need, out)))
    first = shards[0]["manifest"]
    # Nothing is left to generate (every unit holds the cut), so this writes the conditions, split and formats.
    manifest = run_ablation(spec, out=out, provider=fingerprint["provider"], resume=True,
                            tokenizer=first.get("tokenizer"), exclude=first.get("exclude"), log=log,
                            progress=progress)
    manifest["merged_from"] = {"shards": [{"folder": str(s["folder"]), "shard": f"{s['index']}/{count}",
                                           "units": s["manifest"].get("units"),
                                           "seconds": s["manifest"]["timing"]["seconds"]} for s in shards],
                               "cut_index": cut}
    write_manifest(out, manifest)
    return manifest
