"""`cogbeh-gen inspect PATH|HUB_ID`: counts, correctness, behaviors and lengths of a dataset (printing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail


@click.command("inspect")
@click.argument("source", metavar="PATH|HUB_ID[:CONFIG]")
@click.option("--split", default=None, metavar="NAME", help="Only this split (default: every split).")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N rows per config and split (large Hub sets).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.png", help="Also draw behavior counts per condition and a length histogram.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def inspect(source: str, split: str | None, limit: int | None, plot_path: Path | None, as_json: bool) -> None:
    """Counts, correct rate, a condition x behavior table (rule classifier) and lengths of a dataset.

    The source is a run or ablation folder, a records .jsonl, a .parquet file, a folder saved by `datasets`,
    a Hub-style dataset folder (FOLDER:CONFIG for one config), or a Hub dataset id (user/name[:config]).
    """
    from cogbeh.classify.table import tabulate
    from cogbeh.inspection import InspectError, load, plot, report

    if plot_path is not None and plot_path.suffix.lower() != ".png":
        fail(f"--plot writes a PNG; name the file *.png, got {plot_path}")
    try:
        loaded = load(source, split=split, limit=limit)
    except InspectError as err:
        fail(str(err))
    table = tabulate((r.group, r.text) for r in loaded.rows)
    figures = report(loaded, table)
    if plot_path is not None:
        try:
            figures["plot"] = str(plot(loaded, table, plot_path))
        except OSError as err:
            fail(f"cannot write {plot_path}: {err.strerror}")
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False))
        return
    click.echo(format_report(figures, table))


def format_report(figures: dict[str, Any], table: Any) -> str:
    """The header rows, a per-condition table of counts, correctness and lengths, then the behavior table."""
    from cogbeh.classify.table import format_table

    splits = ", ".join(f"{name} {count}" for name, count in figures["splits"].items())
    chars, words = figures["length_chars"], figures["length_tokens"]
    rows = [
        ("source", f"{figures['source']} ({figures['kind']})"),
        ("records", f"{figures['records']} ({splits})"),
        ("correct", _percent(figures["correct_rate"]) + (f" (from {figures['correct_from']})"
                                                          if figures["correct_from"] else " (unknown)")),
        ("length", f"median {chars['median']:.0f} chars / {words['median']:.0f} words, "
                   f"p95 {chars['p95']:.0f} / {words['p95']:.0f}"),
        ("distinct 4-grams", f"{figures['distinct_4gram_ratio']:.3f} over the first "
                             f"{figures['distinct_4gram_sample']} traces"),
    ]
    if "plot" in figures:
        rows.append(("plot", figures["plot"]))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    groups = figures["groups"]
    name_width = max([len("condition"), *map(len, groups)]) + 2
    lines += ["", f"{'condition':<{name_width}}{'n':>7}{'correct':>9}{'median words':>14}{'p95 words':>11}"]
    for name, group in groups.items():
        lines.append(f"{name:<{name_width}}{group['records']:>7}{_percent(group['correct_rate']):>9}"
                     f"{group['length_tokens']['median']:>14.0f}{group['length_tokens']['p95']:>11.0f}")
    return "\n".join(lines) + "\n\nbehaviors by the rule classifier\n" + format_table(table)


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"
