"""The one way a command reports bad input: a single line on stderr and exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click


class InputError(click.ClickException):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""

    exit_code = 2


def fail(message: str) -> NoReturn:
    """Stop the command with a one-line error (exit 2)."""
    raise InputError(message)


def print_error(message: str) -> None:
    """Write the single error line the way every command does."""
    first_line = " ".join(str(message).split())
    click.echo(f"cogbeh-gen: error: {first_line}", err=True)
    sys.stderr.flush()


class Interrupted(Exception):
    """Ctrl-C during the main job: the entry point says how many records were saved and how to finish."""

    def __init__(self, records_path: Path, n: int) -> None:
        super().__init__(str(records_path))
        self.records_path, self.n = records_path, n

    def saved(self) -> int:
        """Complete lines in records.jsonl (a line cut off mid-write is not a record; --resume drops it)."""
        try:
            with self.records_path.open("rb") as handle:
                return sum(1 for line in handle if line.endswith(b"\n") and line.strip())
        except OSError:
            return 0

    def message(self, args: list[str]) -> str:
        """'interrupted: K/N records saved in PATH; finish with: cogbeh-gen ARGS --resume'."""
        import shlex

        again = [a for a in args if a != "--overwrite"]  # the records on disk are the ones to keep now
        again += [] if "--resume" in again else ["--resume"]
        return (f"interrupted: {self.saved()}/{self.n} records saved in {self.records_path}; "
                f"finish with: cogbeh-gen {shlex.join(again)}")
