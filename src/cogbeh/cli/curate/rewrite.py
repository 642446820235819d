"""`cogbeh-gen curate rewrite SELECTION.jsonl --out DIR --model PROVIDER:MODEL`: checked question/thoughts/answer
rewrites of selected documents, ready for `cogbeh-gen train sft --data DIR`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail


@click.command("rewrite")
@click.argument("selection", type=click.Path(path_type=Path), metavar="SELECTION.jsonl")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder: records.jsonl (kept), rejected.jsonl (with reasons), manifest.json, cache/.")
@click.option("--model", required=True, metavar="PROVIDER:MODEL",
              help="The rewriting model, e.g. anthropic:claude-sonnet-4-5 or openai:MODEL (with --base-url: any "
                   "OpenAI-compatible server such as vLLM or SGLang).")
@click.option("--style", type=click.Choice(["rich", "minimal"]), default=None,
              help="rich: first person, keeping the author's behaviors; minimal: plain steps "
                   "(default: from the file name or the selection's manifest).")
@click.option("--base-url", default=None, metavar="URL", help="API endpoint (OpenAI-compatible servers).")
@click.option("--max-cost", type=click.FloatRange(min=0), default=None, metavar="USD",
              help="Stop before spending more than this.")
@click.option("--batch", is_flag=True, help="Use the provider's batch API (cheaper, slower).")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
              help="Requests in flight at once.")
@click.option("--prompt-style", type=click.Choice(["tinyzero", "chat"]), default="tinyzero", show_default=True,
              help="Format of the training rows' prompt/completion (recorded in prompt.json).")
@click.option("--answer-check", type=click.Choice(["strict", "lenient"]), default="lenient", show_default=True,
              help="lenient keeps answers that match or cannot be checked and rejects mismatches; strict keeps "
                   "only matches.")
@click.option("--question-threshold", type=click.FloatRange(0, 100), default=85.0, show_default=True,
              help="Fuzzy match (0-100) the question must reach inside the document.")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Rewrite only the first N documents.")
@click.option("--dry-run", is_flag=True, help="Show the first prompt and the cost estimate; send nothing.")
@click.option("--resume", is_flag=True, help="Continue a run in --out, skipping documents already written.")
@click.option("--overwrite", is_flag=True, help="Start over in --out (cached answers are reused, not re-paid).")
def rewrite(selection: Path, out: Path, model: str, style: str | None, base_url: str | None,
            max_cost: float | None, batch: bool, concurrency: int, prompt_style: str, answer_check: str,
            question_threshold: float, limit: int | None, dry_run: bool, resume: bool, overwrite: bool) -> None:
    """Rewrite the documents of SELECTION.jsonl (from `curate select`) into question / thoughts / answer and
    keep a rewrite only when its question is in the document, its behaviors fit the style (rule classifier) and
    its answer agrees with the document's (math-verify)."""
    from cogbeh.cli.lazy import require_extra
    from cogbeh.curate.rewrite import RewriteOptions, infer_style, read_selection

    require_extra("math_verify", "rapidfuzz")  # the checks run after answers are paid for: fail before
    try:
        rows = read_selection(selection)
    except ValueError as err:
        fail(str(err))
    if not rows:
        fail(f"{selection} has no rows; select documents first with `cogbeh-gen curate select`")
    chosen = style or infer_style(selection, rows)
    if chosen is None:
        fail(f"cannot tell whether {selection} is rich or minimal; pass --style rich|minimal")
    rows = rows[:limit] if limit is not None else rows
    provider, _, name = model.partition(":")
    if provider not in ("anthropic", "openai") or not name:
        fail(f"--model takes PROVIDER:MODEL with PROVIDER anthropic or openai, got {model!r}")
    options = RewriteOptions(model=model, style=chosen, prompt_style=prompt_style,  # type: ignore[arg-type]
                             answer_check=answer_check, threshold=question_threshold,  # type: ignore[arg-type]
                             source=str(selection))
    settings = {"base_url": base_url, "max_cost": max_cost, "batch": batch, "concurrency": concurrency}
    if dry_run:  # nothing is written: no cache folder either
        _dry_run(_rewriter(provider, name, chosen, None, settings), rows)
        return
    _run(rows, out, (provider, name, settings), options, resume=resume, overwrite=overwrite)


def _rewriter(provider: str, model: str, style: str, cache: Path | None, settings: dict[str, Any]) -> Any:
    from cogbeh.curate.rewriter import Rewriter
    from cogbeh.llm import MissingKeyError

    try:
        return Rewriter(provider, model, style=style, cache_dir=cache, **settings)
    except (MissingKeyError, ValueError) as err:
        fail(str(err))


def _dry_run(rewriter: Any, rows: list[dict[str, Any]]) -> None:
    click.echo(rewriter.preview(rows[0]["text"]))
    click.echo(json.dumps(rewriter.estimate([row["text"] for row in rows]), indent=2, sort_keys=True, default=str))


def _run(rows: list[dict[str, Any]], out: Path, model: tuple[str, str, dict[str, Any]], options: Any, *,
         resume: bool, overwrite: bool) -> None:
    from tqdm import tqdm

    from cogbeh.curate.requests import CostCapReached
    from cogbeh.curate.rewrite import CACHE, run_rewrite
    from cogbeh.llm import MissingKeyError, ProviderError, check_key
    from cogbeh.runfiles import RunFolderError, prepare

    provider, name, settings = model
    try:
        check_key(provider)  # before the folder is created
        lock = prepare(out, resume=resume, overwrite=overwrite)
    except (MissingKeyError, RunFolderError) as err:
        fail(str(err))
    with lock:
        rewriter = _rewriter(provider, name, options.style, out / CACHE, settings)
        with tqdm(total=len(rows), unit="doc", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            try:
                manifest = run_rewrite(rows, out, rewriter, options, progress=bar.update)
            except (RunFolderError, CostCapReached) as err:
                fail(str(err))
            except ProviderError as err:
                fail(f"{err}; the rows written so far are kept in {out}; rerun with --resume")
            except KeyboardInterrupt:
                fail(f"interrupted; the rows written so far are kept in {out}; finish with the same command "
                     "and --resume")
    click.echo(_summary(manifest), err=True)
    click.echo(str(out))


def _summary(manifest: dict[str, Any]) -> str:
    """'kept 40 / 60 written (20 rejected, 2 rewrite errors); question 90%, behaviors 85%; answers: ...'."""
    checks = manifest["checks"]

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    answers = ", ".join(f"{n} {v['count']}" for n, v in checks["answer"].items())
    cost = (manifest.get("cost") or {}).get("usd_total")
    return (f"{manifest['style']}: kept {manifest['kept']} / {manifest['written']} written of {manifest['rows']} "
            f"({manifest['rejected']} rejected, {manifest['rewrite_errors']} rewrite errors); question pass "
            f"{pct(checks['question']['rate'])}, behaviors pass {pct(checks['behaviors']['rate'])}; answers: "
            f"{answers}" + (f"; cost ${cost}" if cost is not None else ""))
