"""`cogbeh-gen ablation SPEC`: every condition of a spec on one shared problem set (options and printing only)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail
from cogbeh.cli.generate import PROVIDERS


@click.command("ablation")
@click.argument("spec")
@click.option("--provider", type=click.Choice(PROVIDERS), default=None, help="Override the spec's provider.")
@click.option("--model", default=None, metavar="NAME", help="Override the spec's model (LLM providers).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Ablation folder (default: outputs/<spec name>).")
@click.option("--resume", is_flag=True, help="Continue a partial ablation in --out.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier ablation in --out.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes per condition.")
@click.option("--tokenizer", default=None, metavar="PATH_OR_HUB_ID",
              help="Tokenizer for length_matched (overrides the spec's; one of them is required there); "
                   "'test' for the small shipped test tokenizer.")
@click.option("--exclude", type=click.Path(exists=True, path_type=Path), default=None,
              help="Problems (JSONL, Parquet or dataset folder with nums/target) never to use.")
@click.option("--shard", default=None, metavar="I/N",
              help="Generate shard I of N (0-based) for a cluster array; `cogbeh-gen merge` joins the N folders "
                   "and finishes the ablation as the unsharded run would.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def ablation(spec: str, provider: str | None, model: str | None, out: Path | None, resume: bool, overwrite: bool, workers: int,
             tokenizer: str | None, exclude: Path | None, shard: str | None, quiet: bool) -> None:
    """Run every condition of SPEC (a YAML file, or a shipped name like 'paper') into one folder."""
    from cogbeh.ablation import AblationError, run_ablation
    from cogbeh.controls import ControlError
    from cogbeh.formats import ExportError
    from cogbeh.runfiles import RunFolderError
    from cogbeh.shards import parse_shard
    from cogbeh.spec import SpecError, load_spec
    from cogbeh.tokenizer import TokenizerError

    began = time.perf_counter()
    try:
        part = parse_shard(shard) if shard is not None else None
    except ValueError as err:
        fail(str(err))
    try:
        loaded = load_spec(spec)
        if model is not None:
            loaded = loaded.model_copy(update={"model": model})
        suffix = f"-shard{part[0]}of{part[1]}" if part else ""
        folder = out or Path("outputs") / f"{loaded.name}{suffix}"
        manifest = run_ablation(loaded, out=folder, provider=provider, resume=resume, overwrite=overwrite,
                                workers=workers, tokenizer=tokenizer, exclude=str(exclude) if exclude else None,
                                log=lambda line: click.echo(f"cogbeh-gen: {line}", err=True),
                                progress=not quiet, shard=part)  # a bar only when stderr is a terminal
    except (SpecError, AblationError, ControlError, ExportError, RunFolderError, TokenizerError) as err:
        fail(str(err))
    if not quiet and part is None:
        click.echo(format_summary(manifest, time.perf_counter() - began), err=True)
    elif not quiet:
        made = ", ".join(f"{config} {unit['records']}" for config, unit in manifest["units"].items())
        click.echo(f"shard {part[0]}/{part[1]}: records generated per condition: {made}; merge the {part[1]} "
                   "shard folders with `cogbeh-gen merge`", err=True)
    click.echo(str(folder))


def format_summary(manifest: dict[str, Any], seconds: float) -> str:
    """One line per config: rows, correct %, mean behavior counts; then tokenizers, problems and time."""
    from cogbeh.controls import tokenizer_line

    header = ("config", "train", "test", "correct", "verif", "backtr", "subgoal", "backward")
    rows = [header]
    for name in manifest["config_order"]:
        entry = manifest["conditions"][name]
        means = entry["stats"]["mean_behavior_counts"]
        rows.append((name, str(entry["rows"].get("train", 0)), str(entry["rows"].get("test", 0)),
                     f"{100 * entry['stats']['correct_rate']:.1f}%",
                     *(f"{means[b]:.2f}" for b in ("verification", "backtracking", "subgoal_setting",
                                                   "backward_chaining"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines += [
        line
        for name in manifest["config_order"]
        if (line := tokenizer_line(manifest["conditions"][name]["control_stats"]))
    ]
    problems = manifest["problems"]
    lines.append(f"problems: {problems['selected']} shared by every config "
                 f"({problems['candidates']} candidates); split by problem")
    lines.append(f"time: {seconds:.2f} s")
    return "\n".join(lines)
