"""`cogbeh-gen curate distill LABELLED... --out DIR`: fastText models per behavior from judge labels (options only)."""

from __future__ import annotations

from pathlib import Path

import click

from cogbeh.cli.errors import fail


@click.command("distill")
@click.argument("labelled", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the models (<behavior>.bin), distill.json and report.md.")
@click.option("--holdout", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of documents held out (by a seeded hash of the id) to score against.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split and of fastText.")
@click.option("--epoch", type=click.IntRange(min=1), default=25, show_default=True, help="fastText epochs.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.5, show_default=True,
              help="fastText learning rate.")
@click.option("--word-ngrams", type=click.IntRange(min=1), default=2, show_default=True,
              help="fastText word n-grams.")
@click.option("--dim", type=click.IntRange(min=2), default=64, show_default=True, help="fastText vector size.")
@click.option("--bucket", type=click.IntRange(min=1000), default=100_000, show_default=True,
              help="fastText n-gram hash buckets (a model holds bucket x dim floats).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Training threads; only 1 gives the same models on every run.")
@click.option("--min-docs", type=click.IntRange(min=2), default=50, show_default=True,
              help="Fewest labelled documents (without label errors) to train on.")
def distill(labelled: tuple[Path, ...], out: Path, holdout: float, seed: int, epoch: int, lr: float,
            word_ngrams: int, dim: int, bucket: int, threads: int, min_docs: int) -> None:
    """Train a fastText classifier per behavior on the labels in LABELLED and report precision/recall.

    LABELLED: labelled JSONL files or `curate classify --out` folders (their labelled/*.jsonl). Labels usually
    come from an LLM judge on a sample; then label the corpus with `curate classify --judge fasttext:OUT`.
    """
    from cogbeh.cli.lazy import require_extra
    from cogbeh.curate.distill import REPORT, DistillError, read_labelled
    from cogbeh.curate.distill import distill as run_distill
    from cogbeh.runfiles import write_atomic

    require_extra("fasttext")
    if not labelled:
        fail("no labelled files given; pass labelled .jsonl files or a `curate classify --out` folder")
    try:
        rows = read_labelled(labelled)
        report = run_distill(rows, out, seed=seed, holdout=holdout, epoch=epoch, lr=lr, word_ngrams=word_ngrams,
                             dim=dim, bucket=bucket, threads=threads, min_docs=min_docs)
    except DistillError as err:
        fail(str(err))
    table = report.markdown()
    write_atomic(out / REPORT, table)
    click.echo(table, nl=False)
    click.echo(f"models in {out}; label a corpus with: cogbeh-gen curate classify INPUT --judge fasttext:{out}",
               err=True)
