"""`cogbeh-gen merge DIR...`: join the N shard folders of one run (or one ablation) (options and printing only)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail

_SHARD_SUFFIX = re.compile(r"-shard\d+of\d+$")


@click.command("merge")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Merged folder (default: the first shard's folder name without its -shardIofN suffix).")
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help="Records of the whole run (default: the -n the shards were run with).")
@click.option("--overwrite", is_flag=True, help="Replace the run files in --out (main-job shards).")
@click.option("--control", "controls", multiple=True, metavar="NAME",
              help="Derive a control from the merged run into OUT/<control>/ (repeatable), as the main job does.")
@click.option("--tokenizer", default=None, metavar="PATH|HUB_ID", help="Tokenizer for --control length_matched.")
@click.option("--format", "formats", multiple=True, metavar="FMT",
              help="Extra formats of the merged run (repeatable): parquet, dataset, trl, verl.")
@click.option("--test-size", default="0", show_default=True, metavar="N|FRACTION",
              help="Problems held out for the test split of --format outputs.")
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def merge(folders: tuple[Path, ...], out: Path | None, count: int | None, overwrite: bool,
          controls: tuple[str, ...], tokenizer: str | None, formats: tuple[str, ...], test_size: str,
          quiet: bool) -> None:
    """Join the shard folders FOLDERS (made with --shard I/N) into the folder the unsharded run makes."""
    from cogbeh.shards_ablation import is_ablation

    began = time.perf_counter()
    target = out or _default_out(folders[0])
    kinds = {is_ablation(folder) for folder in folders}
    if len(kinds) > 1:
        fail("the folders mix ablation folders and main-job run folders; merge the N shard folders of one run")
    options = {"controls": controls, "tokenizer": tokenizer, "formats": formats, "test_size": test_size,
               "provider": "symbolic", "quiet": quiet}
    if kinds == {True}:
        given = [flag for flag, value in (("-n", count), ("--overwrite", overwrite), ("--control", controls),
                                          ("--tokenizer", tokenizer), ("--format", formats)) if value]
        if given:
            fail(f"{given[0]} is for main-job shards; an ablation's spec sets its size, controls and formats")
        _merge_ablation(folders, target, quiet, began)
    else:
        _merge_run(folders, target, count, overwrite, options, began)


def _default_out(first: Path) -> Path:
    name = _SHARD_SUFFIX.sub("", first.name)
    if name == first.name:
        fail(f"{first} is not named like a shard folder (NAME-shardIofN); pass --out for the merged folder")
    return first.parent / name


def _merge_run(folders: tuple[Path, ...], out: Path, count: int | None, overwrite: bool, options: dict[str, Any],
               began: float) -> None:
    from cogbeh.cli.generate import _check_control_and_formats, derive_and_export, format_summary
    from cogbeh.runfiles import RunFolderError
    from cogbeh.shards import MergeError, merge_runs

    _check_control_and_formats(options, count or 2)
    try:
        manifest = merge_runs(folders, out, n=count, overwrite=overwrite)
    except (MergeError, RunFolderError) as err:
        fail(str(err))
    options["seed"] = manifest["seed"]
    if not options["quiet"]:
        click.echo(format_summary(manifest, time.perf_counter() - began), err=True)
    derive_and_export(out, None, options, ())


def _merge_ablation(folders: tuple[Path, ...], out: Path, quiet: bool, began: float) -> None:
    from cogbeh.ablation import AblationError
    from cogbeh.cli.ablation import format_summary
    from cogbeh.runfiles import RunFolderError
    from cogbeh.shards import MergeError
    from cogbeh.shards_ablation import merge_ablations

    try:
        manifest = merge_ablations(folders, out, progress=not quiet,
                                   log=lambda line: click.echo(f"cogbeh-gen: {line}", err=True))
    except (MergeError, AblationError, RunFolderError) as err:
        fail(str(err))
    if not quiet:
        click.echo(format_summary(manifest, time.perf_counter() - began), err=True)
    click.echo(str(out))
