"""`cogbeh-gen classify FILE.jsonl`: behavior counts per record, summed per behavior and per condition."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from cogbeh.classify import BehaviorClassifier, BehaviorCounts, ClassifyError, RuleClassifier
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


def choose_classifier(judge: str | None, *, cache: Path | None) -> BehaviorClassifier:
    """The rule classifier, or the paper-style LLM judge for `--judge PROVIDER:MODEL`."""
    if judge is None:
        return RuleClassifier()
    from cogbeh.llm import MissingKeyError
    from cogbeh.llm.judge import make_judge

    try:
        return make_judge(judge, cache=cache)
    except (MissingKeyError, ValueError) as err:
        fail(str(err))


class _Recorded:
    """Pass-through to a classifier that keeps its results in order, so --compare asks the judge only once."""

    def __init__(self, inner: BehaviorClassifier) -> None:
        self.inner, self.name, self.results = inner, inner.name, []

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        found = self.inner.count(texts)
        self.results.extend(found)
        return found


@click.command()
@click.argument("path", metavar="FILE.jsonl", type=click.Path(path_type=Path))
@click.option("--judge", default=None, metavar="PROVIDER:MODEL",
              help="Count with the LLM judge (e.g. openai:gpt-4o-mini, as the paper) instead of the rules.")
@click.option("--compare", is_flag=True, help="With --judge: also report judge/rule agreement per behavior.")
@click.option("--judge-cache", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSONL cache of judge answers (a rerun pays nothing again).")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: overall and per-condition totals, means, shares."
)
def classify(path: Path, judge: str | None, compare: bool, judge_cache: Path | None, as_json: bool) -> None:
    """Count verification, backtracking, subgoal setting and backward chaining in each record's completion.

    Reads JSONL rows with `completion` (or `text`) and, optionally, `condition`; prints per-behavior totals
    and a condition x behavior table of mean counts and the share of records showing each behavior.
    """
    if compare and judge is None:
        fail("--compare needs --judge PROVIDER:MODEL to compare the rule classifier with")
    pairs = list(read_pairs(path))
    classifier = _Recorded(choose_classifier(judge, cache=judge_cache))
    table = tabulate(pairs, classifier=classifier)
    if table.overall.records + table.overall.errors == 0:
        fail(f"{path} has no records; expected JSONL rows with a 'completion' field")
    report = None
    if compare:
        from cogbeh.llm.judge import agreement

        report = agreement(classifier.results, RuleClassifier().count([text for _, text in pairs]))
    if as_json:
        extra = {"agreement_with_rules": report} if report is not None else {}
        click.echo(json.dumps({"classifier": classifier.name, **table.to_dict(), **extra}))
        return
    click.echo(f"classifier: {classifier.name}\n{format_table(table)}")
    if report is not None:
        click.echo("\nagreement with the rule classifier (texts the judge could count):")
        for behavior, row in report.items():
            click.echo(f"  {behavior:<18} presence agrees {100 * row['presence_agreement']:.1f}%  "
                       f"mean |diff| {row['mean_abs_diff']:.2f}  over {int(row['compared'])}")
