"""Rewrite selected documents into question / thoughts / answer, check each rewrite, keep or reject it.

Runs in input order, in chunks; every row is appended (records.jsonl when kept, rejected.jsonl with its reasons
otherwise) as soon as it is checked, so a rerun with --resume skips every id already written, and the rewriter's
response cache (DIR/cache) means no answer is paid for twice. Kept rows carry `question`, `thoughts`, `answer`
and a TinyZero `prompt`/`completion`, so `cogbeh-gen train sft --data DIR` reads the folder directly.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cogbeh.curate.answers import OUTCOMES
from cogbeh.curate.checks import QUESTION_THRESHOLD, STYLES, AnswerPolicy, Style, check_rewrite
from cogbeh.curate.publish import REWRITE_KIND
from cogbeh.prompting import question_row, write_record
from cogbeh.runfiles import (
    RECORDS,
    REJECTED,
    append_handle,
    json_rows,
    read_job,
    resume_conflict,
    valid_lines,
    write_job,
    write_manifest,
)

#: The rewriter's response cache inside the output folder.
CACHE = "cache"


@dataclass(frozen=True)
class RewriteOptions:
    """What a rewrite run is made with (recorded in job.json; a --resume must use the same)."""

    model: str
    style: Style
    prompt_style: str = "tinyzero"
    answer_check: AnswerPolicy = "lenient"
    threshold: float = QUESTION_THRESHOLD
    source: str = ""


def read_selection(path: Path) -> list[dict[str, Any]]:
    """Rows of a selection file (`curate select`'s rich.jsonl / minimal.jsonl), each with an id and a text."""
    try:
        rows = [row for _, row in json_rows(path)]
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file; pass rich.jsonl or minimal.jsonl from `curate select`") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; pass the rich.jsonl or minimal.jsonl inside it") from None
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if "id" not in row or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}: row {number} needs an 'id' and a 'text' string")
        if str(row["id"]) in seen:
            raise ValueError(f"{path}: duplicate id {row['id']!r} (row {number})")
        seen.add(str(row["id"]))
    return rows


def infer_style(path: Path, rows: Sequence[dict[str, Any]]) -> Style | None:
    """rich/minimal from the file name, the selection manifest beside it, or the rows' `selection` column."""
    if path.stem in STYLES:
        return path.stem  # type: ignore[return-value]
    manifest = path.parent / "manifest.json"
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {}) if manifest.is_file() else {}
    except (OSError, ValueError, AttributeError):
        files = {}
    if isinstance(files, dict) and files.get(path.name) in STYLES:
        return files[path.name]  # type: ignore[no-any-return]
    marked = {row.get("selection") for row in rows}
    if len(marked) == 1 and (only := marked.pop()) in STYLES:
        return only  # type: ignore[no-any-return]
    return None


def done_ids(out: Path) -> set[str]:
    """Source ids already settled in records.jsonl or rejected.jsonl (a torn last line is dropped first).

    A row rejected because its request failed (`retry`) is not settled: a rerun asks again. Anything the model
    did answer is settled, and is in the response cache anyway.
    """
    ids: set[str] = set()
    for name in (RECORDS, REJECTED):
        for line in valid_lines(out / name):
            row = json.loads(line)
            if not row.get("retry"):
                ids.add(str(row.get("source_id")))
    return ids


def settled_rows(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, rejected) rows, one per source id: a failed request that a later run settled no longer counts."""
    kept = [json.loads(line) for line in valid_lines(out / RECORDS)]
    rejected = [json.loads(line) for line in valid_lines(out / REJECTED)]
    settled = {str(row["source_id"]) for row in kept + rejected if not row.get("retry")}
    final = [row for row in rejected if not row.get("retry")]
    unresolved: dict[str, dict[str, Any]] = {}
    for row in rejected:
        if row.get("retry") and str(row["source_id"]) not in settled:
            unresolved[str(row["source_id"])] = row  # the latest failure of a still-unsettled document
    return kept, final + list(unresolved.values())


def check_job(out: Path, options: RewriteOptions) -> None:
    """Refuse a --resume whose options differ from those the folder was made with; record them otherwise."""
    was = read_job(out)
    now = asdict(options)
    if was is not None:
        changes = [(key, now[key], was.get(key)) for key in now if key != "source" and was.get(key) != now[key]]
        if changes:
            raise resume_conflict(out, changes)
    write_job(out, now)


def row_id(source_id: object, style: str) -> str:
    """The id of a rewritten row: its source document's id and the style."""
    return f"{source_id}:{style}"


def kept_row(source: dict[str, Any], rewritten: Any, checks: Any, options: RewriteOptions) -> dict[str, Any]:
    """A records.jsonl row: the rewrite, its TinyZero prompt/completion, and what the checks found."""
    training = question_row(rewritten.question, rewritten.thoughts, rewritten.answer, options.prompt_style)
    return {"id": row_id(source["id"], options.style), "source_id": source["id"], "style": options.style,
            "question": rewritten.question, "thoughts": rewritten.thoughts, "answer": rewritten.answer,
            **training, "checks": checks.to_json()}


def rejected_row(source: dict[str, Any], rewritten: Any, checks: Any, options: RewriteOptions) -> dict[str, Any]:
    """A rejected.jsonl row: why it failed, and the rewrite when there was one (so rates count every check)."""
    row: dict[str, Any] = {"id": row_id(source["id"], options.style), "source_id": source["id"],
                           "style": options.style}
    if checks is None:  # the rewrite itself failed (unparseable answer, failed request)
        reason = str(getattr(rewritten, "reason", rewritten))
        return {**row, "reason": f"rewrite: {reason}", "error": True, "retry": " request failed: " in reason}
    return {**row, "reason": "; ".join(checks.reasons), "question": rewritten.question,
            "thoughts": rewritten.thoughts, "answer": rewritten.answer, "checks": checks.to_json()}


def run_rewrite(rows: Sequence[dict[str, Any]], out: Path, rewriter: Any, options: RewriteOptions, *,
                chunk: int = 32, label: Callable[[str], dict[str, int]] | None = None,
                progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Rewrite and check the rows not yet written in `out` (prepared and locked by the caller); returns the
    manifest, which is also written, however the run ends."""
    began = time.perf_counter()
    check_job(out, options)
    write_record(out, options.prompt_style)  # type: ignore[arg-type]
    finished = done_ids(out)
    todo = [row for row in rows if str(row["id"]) not in finished]
    status = "interrupted"
    try:
        with append_handle(out / RECORDS) as records, append_handle(out / REJECTED) as rejected:
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                results = rewriter.rewrite([row["text"] for row in part])
                for source, rewritten in zip(part, results, strict=True):
                    _write_one(source, rewritten, options, label, records, rejected)
                if progress is not None:
                    progress(len(part))
        status = "complete"
    except Exception as err:  # a cost cap or a fault past its retries: the rows written so far stay
        status = f"stopped: {type(err).__name__}"
        raise
    finally:
        manifest = build_manifest(out, options, total=len(rows), status=status,
                                  seconds=time.perf_counter() - began, rewriter=rewriter)
        write_manifest(out, manifest)
    return manifest


def _write_one(source: dict[str, Any], rewritten: Any, options: RewriteOptions,
               label: Callable[[str], dict[str, int]] | None, records: Any, rejected: Any) -> None:
    if not hasattr(rewritten, "question"):  # a LabelError: nothing to check
        line = rejected_row(source, rewritten, None, options)
        handle = rejected
    else:
        checks = check_rewrite(source["text"], rewritten, options.style, threshold=options.threshold,
                               answer_check=options.answer_check, label=label)
        line = (kept_row if checks.kept else rejected_row)(source, rewritten, checks, options)
        handle = records if checks.kept else rejected
    handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    handle.flush()  # line by line: a crash loses at most the row being written


def build_manifest(out: Path, options: RewriteOptions, *, total: int, status: str, seconds: float,
                   rewriter: Any = None) -> dict[str, Any]:
    """Counts and rates of each check outcome over every row written so far (this run and earlier ones)."""
    kept, rejected = settled_rows(out)
    checked = [row["checks"] for row in kept + rejected if isinstance(row.get("checks"), dict)]
    answers = Counter(check["answer"] for check in checked)
    question_ok = sum(check["question"] >= options.threshold for check in checked)
    behaviors_ok = sum(bool(check["behaviors_ok"]) for check in checked)

    def rate(count: int) -> float | None:
        return round(count / len(checked), 4) if checked else None

    return {
        "kind": REWRITE_KIND, "command": "curate rewrite", "status": status, **asdict(options),
        "rows": total, "written": len(kept) + len(rejected), "kept": len(kept), "rejected": len(rejected),
        "rewrite_errors": len(rejected) - sum(isinstance(row.get("checks"), dict) for row in rejected),
        "failed_requests": sum(bool(row.get("retry")) for row in rejected), "checked": len(checked),
        "checks": {
            "question": {"passed": question_ok, "rate": rate(question_ok)},
            "behaviors": {"passed": behaviors_ok, "rate": rate(behaviors_ok)},
            "answer": {outcome: {"count": answers[outcome], "rate": rate(answers[outcome])} for outcome in OUTCOMES},
        },
        "cost": _cost(rewriter), "seconds": round(seconds, 3),
    }


def _cost(rewriter: Any) -> dict[str, Any] | None:
    """Dollars paid for this folder's answers (every run, from the cache) and this run's request counters."""
    if rewriter is None:
        return None
    return {"usd_total": round(float(rewriter.spent()), 6), "this_run": rewriter.stats()}
