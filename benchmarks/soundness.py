"""Sound, behavior-separated traces (issue 9): the acceptance figures, measured on fresh runs.

Per paper condition (and `all --incorrect`): rejections by reason at generation, records the auditor flags
when it re-reads the written files (and each derived control), requested / excluded behaviors by the rule
classifier before its filter (rejections for missing / unwanted over traced candidates), cue_stripped with no
behavior left, and the prose-diversity measures. Then the separation of subgoals from backward chaining.

    python benchmarks/soundness.py [-n 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from cogbeh.ablation import derive_run
from cogbeh.audit import audit_record
from cogbeh.audit.parse import read
from cogbeh.behaviors import PAPER_CONDITIONS, parse_condition
from cogbeh.countdown import check
from cogbeh.diversity import measure
from cogbeh.pipeline import JobConfig, run
from cogbeh.records import read_records
from cogbeh.validate import false_statements, think_block

CONTROLS = ("cue_stripped", "shuffled_steps", "empty_cot", "length_matched")
PROPERTY = re.compile(r"\b(?:factor|divisor|multiple|close to|near|not far)\b", re.IGNORECASE)


def flagged(path: Path) -> int:
    """Records in a records.jsonl that the auditor flags."""
    return sum(bool(audit_record(r, min_backtracks=1 if "backtracking" in r.behaviors else 0))
               for r in read_records(path))


def condition_row(condition: str, n: int, seed: int, incorrect: bool, folder: Path) -> dict[str, object]:
    """Generate, re-audit, derive the controls, and measure one condition."""
    began = time.perf_counter()
    result = run(JobConfig(behaviors=parse_condition(condition), n=n, out=folder, seed=seed, incorrect=incorrect))
    seconds = time.perf_counter() - began
    reasons = Counter(json.loads(line)["reason"].split(":")[0]
                      for line in (folder / "rejected.jsonl").read_text().splitlines() if line.strip())
    traced = result.manifest["counts"]["attempted"] - reasons["no_trace"]
    records = result.records
    control_flags = {}
    for control in CONTROLS:
        derive_run(folder, control, folder / control, tokenizer="test", seed=seed)
        control_flags[control] = flagged(folder / control / "records.jsonl")
    stripped = list(read_records(folder / "cue_stripped" / "records.jsonl"))
    report = measure(r.completion for r in records)
    return {
        "condition": condition + (" --incorrect" if incorrect else ""),
        "records": len(records),
        "no_trace": reasons["no_trace"],
        "audit_rejected_%": round(100 * reasons["audit"] / max(traced, 1), 2),
        "flagged": flagged(folder / "records.jsonl"),
        "flagged_controls": sum(control_flags.values()),
        "missing_%": round(100 * reasons["missing"] / max(traced, 1), 2),
        "unwanted_%": round(100 * reasons["unwanted"] / max(traced, 1), 2),
        "cue_stripped_zero_%": round(100 * sum(not any(r.behavior_counts.values()) for r in stripped)
                                     / len(stripped), 1),
        "true_arithmetic_%": round(100 * sum(not false_statements(think_block(r.completion) or "")
                                             for r in records) / len(records), 1),
        "labels_check_%": round(100 * sum(check(r.answer or "", r.nums, r.target) == r.correct
                                          for r in records) / len(records), 1),
        "skeletons": report.distinct_skeletons,
        "top10_%": round(100 * report.top10_share, 1),
        "openings": report.openings,
        "closings": report.closings,
        "next_then_first": report.next_then_first_steps,
        "seconds": round(seconds, 2),
    }


def first_plan(completion: str) -> tuple[int, tuple[int, ...]] | None:
    """The first plan a trace announces: its value and the numbers it is built from."""
    for said in read(think_block(completion) or ""):
        if said.kind in ("subgoal", "backward"):
            return said.value, tuple(sorted(said.values or ()))  # type: ignore[return-value]
    return None


def separation(folders: dict[str, Path]) -> dict[str, object]:
    """Subgoals never derived by inverting the target; backward chains never named by a property; overlap."""
    subgoal = list(read_records(folders["backtracking+subgoal_setting"] / "records.jsonl"))
    backward = list(read_records(folders["backtracking+backward_chaining"] / "records.jsonl"))
    inverted = sum(any(s.kind == "backward" for s in read(think_block(r.completion) or "")) for r in subgoal)
    by_property = sum(bool(PROPERTY.search(think_block(r.completion) or "")) for r in backward)
    firsts = {r.problem_id: first_plan(r.completion) for r in subgoal}
    shared = [(firsts[r.problem_id], first_plan(r.completion)) for r in backward if r.problem_id in firsts]
    same_value = sum(a is not None and b is not None and a[0] == b[0] for a, b in shared)
    same_plan = sum(a is not None and a == b for a, b in shared)
    return {
        "subgoal records deriving a value by inverting the target": inverted,
        "backward records naming a goal by a property": by_property,
        "shared problems": len(shared),
        "same first value": same_value,
        "same first value from the same numbers": same_plan,
    }


def main() -> None:
    """Print the per-condition table and the separation figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows, folders = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for condition, incorrect in [*((c, False) for c in PAPER_CONDITIONS), ("all", True)]:
            folder = Path(tmp) / (condition.replace("+", "_") + ("_incorrect" if incorrect else ""))
            rows.append(condition_row(condition, args.n, args.seed, incorrect, folder))
            if not incorrect:
                folders[condition] = folder
        columns = list(rows[0])
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(str(row[c]) for c in columns) + " |")
        print()
        for name, value in separation(folders).items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
