"""`--shard i/N` and `merge`: split one run's candidate indices over N processes and join their folders back
into the run folder the unsharded run would have written, byte for byte.

The main job accepts the first n candidates that pass, scanning indices in order. Shard i scans only the indices
i, i+N, i+2N, ... and cannot know where the other shards' acceptances put the n-th one, so it accepts a little
more than n/N (`shard_quota`). Merge interleaves the shards' outcomes by index, cuts at the n-th accepted record,
and checks that every shard scanned up to that cut; records are pure functions of (options, index), so the cut
is the unsharded run's records.jsonl.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cogbeh.runfiles import (
    MANIFEST,
    RECORDS,
    REJECTED,
    check_not_locked,
    is_empty,
    prepare,
    read_job,
    read_json_object,
    write_atomic,
    write_job,
    write_manifest,
)
from cogbeh.versions import versions

#: job.json entries shards may differ in: the shard itself, n (a shard may be extended), paths, versions.
_FREE = ("shard", "n", "template_dir", "versions")


class MergeError(ValueError):
    """Shard folders that cannot be merged (mismatched options, a missing or duplicate shard, too short)."""


def parse_shard(text: str) -> tuple[int, int]:
    """'1/4' -> (1, 4): shard index i (0-based) of N, 0 <= i < N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"--shard takes I/N like 0/4 (shard I of N, counted from 0), got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise ValueError(f"--shard {text}: I must be 0..N-1 and N at least 1 (e.g. 0/4 .. 3/4)")
    return index, count


def shard_quota(n: int, count: int) -> int:
    """Records shard i of `count` accepts for a run of `n`: n/count plus a margin that covers the spread.

    Up to the unsharded run's cut, a shard's share of the n records is n/count give or take binomial noise
    whose spread is at most sqrt(n/count) (it is sqrt(rate * n/count) for a rejection rate `rate`); 4 spreads
    plus 16 leave merge short only on a > 4-sigma event in the worst case (half the candidates rejected or
    more), and far beyond that at the usual rejection rates of a few percent. Merge checks it either way.
    """
    if count == 1:
        return n
    base = math.ceil(n / count)
    return min(n, base + math.ceil(4 * math.sqrt(base)) + 16)


def shard_block(shard: tuple[int, int], n: int) -> dict[str, int]:
    """What a shard's manifest records about its place in the whole run."""
    return {"index": shard[0], "count": shard[1], "n": n, "quota": shard_quota(n, shard[1])}


def line_index(line: str) -> int:
    """The candidate index of a records.jsonl or rejected.jsonl line."""
    return int(json.loads(line)["index"])


def read_lines(path: Path) -> list[str]:
    """The complete lines of a JSONL file, read only: merge never rewrites a shard (a torn last line is left out)."""
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").split("\n")[:-1] if line.strip()]


def _load_shard(folder: Path) -> dict[str, Any]:
    if not (folder / MANIFEST).is_file():
        raise MergeError(f"{folder} has no {MANIFEST}: not a finished run; finish the shard with --resume")
    check_not_locked(folder)  # a shard still being written is not merged half-done
    manifest = read_json_object(folder / MANIFEST, "rerun that shard with --overwrite")
    block = (manifest.get("arguments") or {}).get("shard")
    if not isinstance(block, dict):
        raise MergeError(f"{folder} is not a shard (its run had no --shard); merge only the N folders of "
                         "one sharded run")
    records, rejected = read_lines(folder / RECORDS), read_lines(folder / REJECTED)
    wrong = [i for i in map(line_index, records + rejected) if i % block["count"] != block["index"]]
    if wrong:
        raise MergeError(f"{folder}: index {wrong[0]} does not belong to shard {block['index']}/{block['count']}")
    scanned = max(map(line_index, records[-1:] + rejected[-1:]), default=-1)
    return {"folder": folder, "manifest": manifest, "job": read_job(folder) or {}, "block": block,
            "records": records, "rejected": rejected, "scanned": scanned}


def _check_set(shards: list[dict[str, Any]]) -> int:
    """The shard count N, once the folders are one complete set of shards of one run."""
    counts = {s["block"]["count"] for s in shards}
    if len(counts) > 1:
        raise MergeError(f"the folders come from runs split {' and '.join(map(str, sorted(counts)))} ways; "
                         "merge the N folders of one sharded run")
    (count,) = counts
    first = shards[0]
    for shard in shards[1:]:
        keys = sorted(k for k in {*first["job"], *shard["job"]} - set(_FREE)
                      if first["job"].get(k) != shard["job"].get(k))
        if keys:
            raise MergeError(f"{shard['folder']} was made with other options than {first['folder']} "
                             f"({', '.join(keys)}); merge shards of one run only")
    seen: dict[int, Path] = {}
    for shard in shards:
        index = shard["block"]["index"]
        if index in seen:
            raise MergeError(f"shard {index}/{count} is given twice ({seen[index]} and {shard['folder']})")
        seen[index] = shard["folder"]
    missing = [f"{i}/{count}" for i in range(count) if i not in seen]
    if missing:
        raise MergeError(f"shard(s) {', '.join(missing)} missing; pass all {count} shard folders")
    return count


def merge_lines(shards: list[dict[str, Any]], n: int) -> tuple[list[str], list[str], int]:
    """The unsharded run's record lines and rejection lines, and its last candidate index (the cut)."""
    merged = list(heapq.merge(*(s["records"] for s in shards), key=line_index))
    if len(merged) < n:
        raise MergeError(f"the shards hold {len(merged)} records, fewer than the {n} of the whole run; the "
                         "unsharded run would stop short as well (see each shard's rejected.jsonl)")
    records = merged[:n]
    cut = line_index(records[-1])
    count = shards[0]["block"]["count"]
    for shard in shards:
        index = shard["block"]["index"]
        needed = cut - (cut - index) % count  # the shard's last index at or below the cut
        if needed >= 0 and shard["scanned"] < needed:
            raise MergeError(f"shard {index}/{count} ({shard['folder']}) stopped at index {shard['scanned']}, "
                             f"before index {needed} that the first {n} records need; extend it with its "
                             f"options, a larger -n and --resume, then merge with -n {n}")
    rejected = [line for line in heapq.merge(*(s["rejected"] for s in shards), key=line_index) if line_index(line) < cut]
    return records, rejected, cut


def merge_runs(folders: Iterable[Path], out: Path, *, n: int | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Join the N shard folders of one main-job run into `out`, as the unsharded run; returns the manifest."""
    from cogbeh.hub import write_run_card
    from cogbeh.records import read_records

    shards = sorted((_load_shard(Path(f)) for f in folders), key=lambda s: s["block"]["index"])
    if not shards:
        raise MergeError("no shard folders given")
    _check_set(shards)
    recorded = {s["block"]["n"] for s in shards}
    if n is None and len(recorded) > 1:
        raise MergeError(f"the shards were run with -n {' and '.join(map(str, sorted(recorded)))}; "
                         "pass the whole run's -n to merge")
    total = n if n is not None else recorded.pop()
    records, rejected, cut = merge_lines(shards, total)
    if not overwrite and not is_empty(out):
        raise MergeError(f"{out} is not empty; choose a new --out, or pass --overwrite to replace its run files")
    with prepare(out, resume=False, overwrite=overwrite):
        write_atomic(out / RECORDS, "".join(line + "\n" for line in records))
        write_atomic(out / REJECTED, "".join(line + "\n" for line in rejected))
        job = {**shards[0]["job"], "shard": None, "n": total}
        write_job(out, job)
        parsed = list(read_records(out / RECORDS))
        manifest = _merged_manifest(shards, total, cut, rejected, parsed, out)
        write_manifest(out, manifest)
        write_run_card(out, manifest, parsed)
    return manifest


def _merged_manifest(shards: list[dict[str, Any]], n: int, cut: int, rejected: list[str], records: list[Any],
                     out: Path) -> dict[str, Any]:
    from cogbeh.formats import sha256_file
    from cogbeh.stats import summarise

    base = json.loads(json.dumps(shards[0]["manifest"]))  # a deep copy
    arguments = {k: v for k, v in base["arguments"].items() if k != "shard"}
    reasons = Counter(json.loads(line)["reason"].split(":", 1)[0] for line in rejected)
    summed: Counter[str] = Counter()
    for shard in shards:
        counts = shard["manifest"]["counts"]
        summed.update(accepted=counts["accepted"], rejected=counts["rejected"],
                      tried=counts["accepted"] + counts["rejected"])
    # manifest.json is stored with sorted keys; the run card lists these two in the run's own order.
    base["template_hashes"] = {k: base["template_hashes"][k] for k in ("traces", "query")}
    base["versions"] = {**{k: base["versions"][k] for k in versions() if k in base["versions"]}, **base["versions"]}
    base.update(
        arguments={**arguments, "n": n},
        # Exactly what the unsharded run reports: candidates up to the cut.
        counts={"attempted": cut + 1, "accepted": len(records), "rejected": len(rejected),
                "rejected_by_reason": dict(sorted(reasons.items()))},
        stats=summarise(records),
        timing={"seconds": round(sum(s["manifest"]["timing"]["seconds"] for s in shards), 3)},
        merged_from={
            "shards": [{"folder": str(s["folder"]), "shard": f"{s['block']['index']}/{s['block']['count']}",
                        "counts": s["manifest"]["counts"], "scanned_through": s["scanned"],
                        "seconds": s["manifest"]["timing"]["seconds"]} for s in shards],
            # What the shards made in all, including what they over-generated past the cut.
            "counts_summed": dict(summed),
        },
    )
    base["files"] = {**base.get("files", {}), RECORDS: {"sha256": sha256_file(out / RECORDS), "rows": len(records)}}
    return base
