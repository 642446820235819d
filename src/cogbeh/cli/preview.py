"""`cogbeh-gen ... --preview K`: the first K records of a run, printed readably; nothing is written."""

from __future__ import annotations

from typing import Any

import click

from cogbeh.cli.errors import fail

RULE = "=" * 78


def format_record(record: Any, number: int, total: int) -> str:
    """One record as a reader wants it: a header line, then the prompt and the completion in full."""
    counts = ", ".join(f"{b} {n}" for b, n in record.behavior_counts.items() if n) or "no behaviors counted"
    verdict = "correct" if record.correct else "wrong"
    header = (f"record {number}/{total}  {record.id}  nums {list(record.nums)} -> {record.target}  "
              f"answer {record.answer!r} ({verdict})  {counts}")
    return "\n".join([RULE, header, RULE, "--- prompt", record.prompt.rstrip(), "--- completion",
                      record.completion.rstrip(), ""])


def preview_symbolic(config: Any, k: int, options: dict[str, Any]) -> None:
    """Generate the first `k` records in memory, apply --control if given, and print them to stdout."""
    from cogbeh.pipeline import preview

    records, tried = preview(config, k)
    if options["control"] is not None and records:
        from cogbeh.controls import ControlError, apply_control

        try:
            records, _ = apply_control(options["control"], records, tokenizer=options["tokenizer"],
                                       seed=options["seed"])
        except (ControlError, OSError, ValueError) as err:
            fail(f"--control {options['control']}: {err}")
    for number, record in enumerate(records, start=1):
        click.echo(format_record(record, number, len(records)))
    if not options["quiet"]:
        short = "" if len(records) >= k else f" (only {len(records)} of {k} within the attempt budget)"
        click.echo(f"preview: {len(records)} record(s) from {tried} candidate(s){short}; nothing written",
                   err=True)
