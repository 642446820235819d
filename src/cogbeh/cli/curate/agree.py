"""`cogbeh-gen curate agree REFERENCE CANDIDATE`: how far one labelling agrees with another, per behavior."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cogbeh.cli.errors import fail


@click.command("agree")
@click.argument("reference", type=click.Path(exists=True, path_type=Path))
@click.argument("candidate", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a Markdown table.")
def agree(reference: Path, candidate: Path, as_json: bool) -> None:
    """Precision and recall of CANDIDATE's labels against REFERENCE's, per behavior and problem/solution.

    Both are labelled JSONL files or `curate classify --out` folders, matched by `id`; REFERENCE may also be
    hand labels with counts under the bare behavior names (like tests/data/curate/corpus.jsonl). E.g. score the
    rules against an LLM judge on a sample, or a judge against your own labels, before labelling a corpus.
    """
    from cogbeh.curate.distill import DistillError, read_labelled
    from cogbeh.curate.scores import agreement, format_confusion

    try:
        result = agreement(read_labelled([reference]), read_labelled([candidate]))
    except (DistillError, ValueError) as err:
        fail(str(err))
    if result.compared == 0:
        fail(f"no document of {reference} is in {candidate} (rows are matched by their 'id')")
    if as_json:
        table = {field: {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn, "errors": c.errors,
                         "precision": c.precision, "recall": c.recall, "f1": c.f1}
                 for field, c in result.table.items()}
        click.echo(json.dumps({"compared": result.compared, "missing": result.missing,
                               "reference_errors": result.reference_errors, "fields": table}))
        return
    click.echo(format_confusion(result.table, title=f"{candidate} against {reference}"), nl=False)
    click.echo(f"{result.compared} documents compared; {result.missing} reference documents missing from the "
               f"candidate; {result.reference_errors} reference label errors left out", err=True)
