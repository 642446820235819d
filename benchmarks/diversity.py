"""How templated trace prose is: per condition, sentences, distinct sentence skeletons (numbers, operators
and number lists masked), the share the 10 most common skeletons cover, distinct openings and closings, and
how many traces take their first step with "Next"/"Then".

    python benchmarks/diversity.py RUN_DIR_OR_RECORDS_JSONL [...] [--top K] [--json]
    python benchmarks/diversity.py --generate 300 [--top K] [--json]

A folder means its records.jsonl and its subfolders' records.jsonl (an ablation's layout). --generate N
writes N records per paper condition, plus `all` with wrong final answers, to a temporary folder and measures
those.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cogbeh.diversity import OVERALL, TOP_SHARE_OF, DiversityReport, group_of, group_reports
from cogbeh.records import read_records
from cogbeh.runfiles import RECORDS

COLUMNS = (
    "condition",
    "records",
    "sentences",
    "distinct skeletons",
    "top-10 share %",
    "openings",
    "closings",
    "Next/Then first steps",
)


def record_files(paths: list[Path]) -> list[Path]:
    """The records files the arguments name: a file itself, a folder's records.jsonl and its subfolders'."""
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
            continue
        # An ablation keeps a condition per subfolder; deeper `generated/` runs (its raw sources) are not read.
        candidates = (
            [path / RECORDS, *sorted(sub / RECORDS for sub in path.iterdir())] if path.is_dir() else []
        )
        found = [candidate for candidate in candidates if candidate.is_file()]
        if not found:
            raise SystemExit(f"diversity: no {RECORDS} at {path} or in its subfolders")
        files += found
    return files


def from_files(files: list[Path]) -> Iterator[tuple[str, str]]:
    """(group, completion) for every record of the files."""
    for path in files:
        for record in read_records(path):
            yield group_of(record), record.completion


def generated(n: int, folder: Path) -> list[tuple[str, str]]:
    """N symbolic records per paper condition, plus `all` with wrong answers, as (group, completion)."""
    # Imported here so that measuring existing records never depends on the trace engine importing cleanly.
    from cogbeh.behaviors import PAPER_CONDITIONS, parse_condition
    from cogbeh.pipeline import JobConfig, run

    jobs = [(condition, condition, False) for condition in PAPER_CONDITIONS]
    jobs.append(("all (incorrect)", "all", True))
    pairs: list[tuple[str, str]] = []
    for label, condition, incorrect in jobs:
        out = folder / label.replace("+", "_").replace(" ", "_").strip("()")
        config = JobConfig(behaviors=parse_condition(condition), n=n, out=out, incorrect=incorrect)
        pairs += [(label, record.completion) for record in run(config).records]
    return pairs


def markdown(reports: dict[str, DiversityReport], top: int) -> str:
    """One table row per group; with `top`, each group's most common skeletons below."""
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] + ["--:"] * (len(COLUMNS) - 1)) + "|"]
    for group, r in reports.items():
        cells = [group, r.records, r.sentences, r.distinct_skeletons, f"{100 * r.top10_share:.1f}"]
        cells += [r.openings, r.closings, r.next_then_first_steps]
        rows.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    malformed = sum(r.malformed for g, r in reports.items() if g != OVERALL)
    if malformed:
        rows.append(f"\n{malformed} completions without a well-formed think block were skipped.")
    for group, r in reports.items() if top else ():
        rows += ["", f"**{group}** — the {top} most common skeletons", ""]
        ranked = enumerate(r.top_skeletons, start=1)
        rows += [f"{rank}. {100 * share:.1f}% `{text}`" for rank, (text, share) in ranked]
    return "\n".join(rows)


def main() -> None:
    """Measure the named records (or freshly generated ones) and print a table or JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path, help="records.jsonl files or run folders")
    parser.add_argument(
        "--generate", type=int, metavar="N", help="measure N fresh records per paper condition"
    )
    parser.add_argument("--top", type=int, default=0, metavar="K", help="list the K most common skeletons")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    args = parser.parse_args()
    if bool(args.paths) == (args.generate is not None):
        parser.error("give records files or folders, or --generate N (not both)")
    if args.generate is not None and args.generate < 1:
        parser.error("--generate N needs N >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = args.generate is not None
        pairs = generated(args.generate, Path(tmp)) if fresh else list(from_files(record_files(args.paths)))
    began = time.perf_counter()
    reports = group_reports(pairs, top=max(args.top, TOP_SHARE_OF) if args.json else args.top)
    seconds = time.perf_counter() - began
    if args.json:
        print(json.dumps({group: r.as_dict() for group, r in reports.items()}, indent=2, ensure_ascii=False))
        return
    print(markdown(reports, args.top))
    print(f"\nmeasured {len(pairs)} completions in {seconds:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
