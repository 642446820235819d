"""`cogbeh-gen reproduce SPEC`: the paper's pipeline for conditions x models (options and printing only)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cogbeh.cli.errors import fail


@click.command("reproduce")
@click.argument("spec")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: the spec's 'out', else outputs/reproduce/<name>).",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the stages, the runs and a GPU-hours estimate; run nothing."
)
def reproduce(spec: str, out: Path | None, dry_run: bool) -> None:
    """Ablation -> SFT -> RL -> eval for every condition x model in SPEC, then the figure; resumable."""
    from cogbeh.spec import SpecError
    from cogbeh.train.reproduce import ReproduceError, describe, run
    from cogbeh.train.reproduce_spec import load_reproduce_spec

    try:
        loaded = load_reproduce_spec(spec, out=out)
    except SpecError as err:
        fail(str(err))
    if dry_run:
        click.echo(describe(loaded))
        return
    from cogbeh.cli.train import _user_errors

    began = time.perf_counter()
    with _user_errors():
        try:
            run(
                loaded,
                log=lambda line: click.echo(
                    f"reproduce: {line} ({time.perf_counter() - began:.0f}s)", err=True
                ),
            )
        except ReproduceError as err:
            fail(str(err))
    click.echo(
        f"reproduce: figures and CSVs in {loaded.out / 'results'} ({time.perf_counter() - began:.0f}s)"
    )
