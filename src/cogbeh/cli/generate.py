"""The main job: `cogbeh-gen --behavior backtracking -n 1000 ...` (options and printing only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]


def main_job_options(command: F) -> F:
    """Attach the main job's options to the root command."""
    options = [
        click.option("--behavior", "-b", default=None, help="Behavior set: one, a '+'-joined set, all, none, or a paper name."),
        click.option("-n", "count", default=None, help="How many records to accept."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def run_main_job(**options: Any) -> None:
    """Run the main job with parsed options."""
    click.echo(click.get_current_context().get_help())
