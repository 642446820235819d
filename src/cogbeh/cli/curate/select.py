"""`cogbeh-gen curate select INPUT... --out DIR --tokens N`: rich and minimal sets under one token budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail

#: Files the command writes in --out, each atomically.
SELECT_FILES = ("rich.jsonl", "minimal.jsonl", "frequency.md", "frequency.png", "manifest.json")


@click.command("select")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for rich.jsonl, minimal.jsonl, frequency.md/.png and manifest.json.")
@click.option("--tokens", "budget", required=True, metavar="N",
              help="Token budget of each set: 12000, 500k, 8.3M.")
@click.option("--tokenizer", default="test", show_default=True, metavar="test|PATH|HUB_ID",
              help="Tokenizer that counts the budget ('test': the small shipped one, an approximation; pass "
                   "your model's tokenizer.json or folder for real runs).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the document order.")
@click.option("--rule", default=None, metavar="RULE",
              help="Which documents are rich, e.g. 'backtracking>0,verification>=2' (all conditions must hold; "
                   "default: any behavior count > 0). Minimal is always: every count zero.")
def select(inputs: tuple[str, ...], out: Path, budget: str, tokenizer: str, seed: int, rule: str | None) -> None:
    """Select behavior-rich and behavior-minimal documents from labelled rows (`curate classify` output folders,
    or JSONL/Parquet files), both with a problem and a solution, each filled to the same token budget."""
    from cogbeh.curate.frequency import Frequency, to_markdown, write_png
    from cogbeh.curate.rows import read_rows
    from cogbeh.curate.select import parse_budget, parse_rule
    from cogbeh.curate.select import select as run_select
    from cogbeh.runfiles import write_atomic, write_via
    from cogbeh.tokenizer import TokenizerError, load_tokenizer

    try:
        tokens = parse_budget(budget)
        parsed = parse_rule(rule) if rule is not None else None
    except ValueError as err:
        fail(str(err))
    try:
        loaded = load_tokenizer(tokenizer)
    except TokenizerError as err:
        fail(f"--tokenizer: {err}")
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder; choose another --out")
    tally = Frequency()
    try:
        selection = run_select(tally.track(read_rows(inputs)), tokens=tokens, tokenizer=loaded, seed=seed,
                               rule=parsed)
    except ValueError as err:
        fail(str(err))
    if selection.rows == 0:
        fail(f"no rows in {' '.join(inputs)}; pass labelled rows from `cogbeh-gen curate classify`")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("rich", "minimal"):
            write_atomic(out / f"{name}.jsonl", _jsonl(getattr(selection, name)))
        write_atomic(out / "frequency.md", to_markdown(tally))
        write_via(out / "frequency.png", lambda path: write_png(tally, path))
        manifest = _manifest(selection, tally.to_json(), inputs, loaded.source)
        write_atomic(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror}")
    if loaded.is_test:
        click.echo("note: tokens counted with the shipped test tokenizer; pass --tokenizer for your model's", err=True)
    click.echo(selection.summary(), err=True)
    click.echo(str(out))


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n" for row in rows)


def _manifest(selection: Any, frequency: dict[str, Any], inputs: tuple[str, ...], tokenizer: str) -> dict[str, Any]:
    """What was selected and how (no timings: same inputs and seed, same bytes); `files` tells `curate rewrite`
    each file's style."""
    return {
        "command": "curate select", "inputs": list(inputs), "tokenizer": tokenizer, "seed": selection.seed,
        "rule": selection.rule, "rows": selection.rows, "excluded": selection.excluded,
        "sets": {name: report.to_json() for name, report in selection.reports.items()},
        "files": {"rich.jsonl": "rich", "minimal.jsonl": "minimal"},
        "frequency": frequency,
    }
