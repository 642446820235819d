"""`cogbeh-gen classify FILE.jsonl`: behavior counts per record, summed per behavior and per condition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click

from cogbeh.classify import BehaviorClassifier, RuleClassifier
from cogbeh.classify.table import completion_text, condition_of, format_table, tabulate
from cogbeh.cli.errors import fail


def read_pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(condition, completion) per JSONL row; any unreadable row stops the command with its line number."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{path}: no such file; pass a JSONL file of records (e.g. outputs/<run>/records.jsonl)")
    except IsADirectoryError:
        fail(f"{path} is a folder; pass the JSONL file inside it (e.g. {path / 'records.jsonl'})")
    except OSError as err:
        fail(f"cannot read {path}: {err.strerror}")
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield _pair(path, number, line)
        except UnicodeDecodeError:
            fail(f"{path} is not UTF-8 text; expected JSONL, one JSON object per line")


def _pair(path: Path, number: int, line: str) -> tuple[str, str]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        fail(f"{path}:{number}: not JSON ({err.msg}); expected one JSON object per line")
    if not isinstance(row, dict):
        fail(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
    text = completion_text(row)
    if text is None:
        fail(f"{path}:{number}: no 'completion' (or 'text') string field to classify")
    return condition_of(row), text


def choose_classifier() -> BehaviorClassifier:
    """The classifier to count with. An LLM judge (`--judge PROVIDER:MODEL`, a later issue) plugs in here."""
    return RuleClassifier()


@click.command()
@click.argument("path", metavar="FILE.jsonl", type=click.Path(path_type=Path))
# The LLM judge's `--judge PROVIDER:MODEL` option goes here; `choose_classifier` turns it into a classifier.
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: overall and per-condition totals, means, shares."
)
def classify(path: Path, as_json: bool) -> None:
    """Count verification, backtracking, subgoal setting and backward chaining in each record's completion.

    Reads JSONL rows with `completion` (or `text`) and, optionally, `condition`; prints per-behavior totals
    and a condition x behavior table of mean counts and the share of records showing each behavior.
    """
    classifier = choose_classifier()
    table = tabulate(read_pairs(path), classifier=classifier)
    if table.overall.records + table.overall.errors == 0:
        fail(f"{path} has no records; expected JSONL rows with a 'completion' field")
    if as_json:
        click.echo(json.dumps({"classifier": classifier.name, **table.to_dict()}))
    else:
        click.echo(f"classifier: {classifier.name}\n{format_table(table)}")
