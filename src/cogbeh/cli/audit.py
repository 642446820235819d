"""`cogbeh-gen audit FILE|DIR`: replay every trace over the numbers on the table and report contradictions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail


def record_files(path: Path) -> list[Path]:
    """records.jsonl files: the file given, or every one under a run or ablation folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        fail(f"{path}: no such file or folder; pass a records.jsonl or a run folder (e.g. outputs/<run>)")
    found = sorted(p for p in path.rglob("records.jsonl") if p.is_file())
    if not found:
        fail(f"{path} holds no records.jsonl; pass a run folder written by cogbeh-gen or a JSONL file")
    return found


def _min_backtracks(folder: Path) -> int:
    # What the run asked for, from its manifest: a trace with fewer returns than that is flagged.
    try:
        arguments = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("arguments", {})
    except (OSError, ValueError):
        return 0
    asked = arguments.get("backtracks")
    if isinstance(asked, list) and asked and isinstance(asked[0], int):
        return asked[0]
    return 1 if "backtracking" in str(arguments.get("behavior", "")) or arguments.get("behavior") == "all" else 0


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    from cogbeh.runfiles import json_rows

    try:
        rows = json_rows(path)
    except OSError as err:
        fail(f"cannot read {path}: {err.strerror}")
    except ValueError as err:
        fail(str(err))
    for number, row in rows:
        if not isinstance(row.get("completion"), str):
            fail(f"{path}:{number}: expected a record with a 'completion' string, 'nums' and 'target'")
    return rows


def _audit_row(row: dict[str, Any], min_backtracks: int) -> list[Any]:
    from cogbeh.audit import audit_record
    from cogbeh.records import Record

    try:
        record = Record.model_validate(row)
    except ValueError:  # not our schema (another tool's rows): read it leniently, as LLM text
        from cogbeh.audit import audit_text
        from cogbeh.countdown.rules import whole_number

        try:  # whole numbers only: int() would truncate a 3.7 and audit a table that is not the row's
            nums = [whole_number(n, "nums") for n in row["nums"]]
            target = whole_number(row["target"], "target")
        except (KeyError, TypeError, ValueError):
            return ["no usable 'nums' and 'target' fields (whole numbers)"]
        return audit_text(row["completion"], nums, target, strict=False)
    return audit_record(record, min_backtracks=min_backtracks)


def _kind(problem: object) -> str:
    return re.sub(r"\[[^\]]*\]|\d+", "N", str(problem).split(" (")[0])[:70]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--show", default=5, show_default=True, metavar="N", help="Print the first N flagged records.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file instead of a table.")
def audit(path: Path, show: int, as_json: bool) -> int:
    """Replay every trace in PATH (a records.jsonl or a run folder) over the numbers really on the table.

    Symbolic records are read strictly (every sentence must be a readable, true claim); LLM records leniently
    (what can be parsed: moves over the available numbers, narrated tables, checks). Controls get their own
    check. Exit status 1 when any record is flagged.
    """
    flagged_total = 0
    for file in record_files(path):
        rows = _rows(file)
        least = _min_backtracks(file.parent)
        flagged, kinds, examples = 0, Counter(), []
        for number, row in rows:
            findings = _audit_row(row, least)  # audit_record holds controls to no minimum
            if findings:
                flagged += 1
                kinds[_kind(findings[0])] += 1
                if len(examples) < show:
                    examples.append({"line": number, "id": row.get("id"), "findings": [str(f) for f in findings[:3]]})
        flagged_total += flagged
        _report(file, len(rows), flagged, kinds, examples, as_json=as_json)
    return 1 if flagged_total else 0


def _report(file: Path, total: int, flagged: int, kinds: Counter, examples: list[dict[str, Any]], *,
            as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": str(file), "records": total, "flagged": flagged,
                               "by_problem": dict(kinds.most_common()), "examples": examples}))
        return
    share = f"{100 * flagged / total:.1f}%" if total else "-"
    click.echo(f"{file}: {total} records, {flagged} flagged ({share})")
    for kind, count in kinds.most_common(8):
        click.echo(f"  {count:6d}  {kind}")
    for example in examples:
        click.echo(f"  line {example['line']} ({example['id']}): {example['findings'][0]}")
