"""`cogbeh-gen batch status|collect|cancel DIR`: look after a --batch run from any later process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail

FOLDER = click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
BASE_URL = click.option("--base-url", default=None, metavar="URL", help="Override the endpoint saved in job.json.")


@click.group()
def batch() -> None:
    """Status, collection and cancellation of provider batches of a --batch run folder."""


def _admin(action: str, folder: Path, base_url: str | None) -> list[dict[str, Any]]:
    from cogbeh.llm import MissingKeyError, batch_admin
    from cogbeh.llm.types import ProviderError

    try:
        return getattr(batch_admin, f"batch_{action}")(folder, base_url=base_url)  # type: ignore[no-any-return]
    except (MissingKeyError, ValueError, FileNotFoundError) as err:
        fail(str(err))
    except ProviderError as err:
        raise click.ClickException(f"the provider refused: {err}") from None


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("no batches in this run folder")
        return
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items()) if v)
        state = "collected" if row["collected"] else "pending"
        click.echo(f"{row['id']}  {row['status']:<11} {state:<9} {row['requests']} requests  {counts}")


@batch.command()
@FOLDER
@BASE_URL
def status(folder: Path, base_url: str | None) -> None:
    """Show each batch of FOLDER: provider status, request counts, collected or not."""
    _table(_admin("status", folder, base_url))


@batch.command()
@FOLDER
@BASE_URL
def cancel(folder: Path, base_url: str | None) -> None:
    """Cancel every uncollected batch of FOLDER (finished requests stay collectable; nothing new is submitted)."""
    _table(_admin("cancel", folder, base_url))


@batch.command()
@FOLDER
@BASE_URL
@click.option("--wait/--no-wait", default=False, show_default=True, help="Poll until pending batches end.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
def collect(folder: Path, base_url: str | None, wait: bool, quiet: bool) -> None:
    """Collect ended batches of FOLDER, resubmit errored or expired requests, and write the records."""
    from dataclasses import replace

    from cogbeh.cli.llm_job import run_and_report
    from cogbeh.llm import MissingKeyError, check_key, load_job

    try:
        job = load_job(folder, wait=wait)
        check_key(job.provider)
    except (MissingKeyError, FileNotFoundError, ValueError) as err:
        fail(str(err))
    if base_url:
        job = replace(job, base_url=base_url)
    run_and_report(job, quiet=quiet, collect=True)
