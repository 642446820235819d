"""The one way a command reports bad input: a single line on stderr and exit status 2."""

from __future__ import annotations

import sys
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
