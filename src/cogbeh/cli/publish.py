"""`cogbeh-gen publish DIR --repo-id user/name`: a run or ablation as a Hub dataset (options and printing only)."""

from __future__ import annotations

from pathlib import Path

import click

from cogbeh.cli.errors import fail


@click.command("publish")
@click.argument("run_dir", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repo-id", required=True, help="Hub dataset id, e.g. user/priming.")
@click.option("--private", is_flag=True, help="Create the dataset repo as private.")
@click.option("--license", "license_id", default=None, metavar="ID",
              help="License id for the card (e.g. cc-by-4.0); none is invented when omitted.")
@click.option("--dry-run", is_flag=True, help="Only write the local repo folder; upload nothing.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Local repo folder (default: DIR/hub).")
@click.option("--revision", default=None, metavar="BRANCH",
              help="Branch to commit to (created from main if missing); with --create-pr, the PR's base.")
@click.option("--commit-message", default=None, metavar="TEXT",
              help="Commit title (default: what was uploaded).")
@click.option("--create-pr", is_flag=True, help="Open a pull request instead of committing directly.")
@click.option("--token", default=None, metavar="TOKEN",
              help="Hub token (default: HF_TOKEN or the `hf auth login` token). Never printed or written; "
                   "prefer HF_TOKEN, since a command line is visible to other users of the machine.")
def publish(run_dir: Path, repo_id: str, private: bool, license_id: str | None, dry_run: bool,
            out: Path | None, revision: str | None, commit_message: str | None, create_pr: bool,
            token: str | None) -> None:
    """Lay out DIR as a Hub dataset (a config per condition, card, plot), then upload it."""
    from cogbeh.hub import PublishError
    from cogbeh.hub import publish as publish_run

    try:
        result = publish_run(run_dir, repo_id, private=private, license=license_id, dry_run=dry_run,
                             out_folder=out, revision=revision, commit_message=commit_message,
                             create_pr=create_pr, token=token)
    except PublishError as err:
        fail(str(err))
    for name, rows in result.rows.items():
        click.echo(f"{name}: " + ", ".join(f"{split} {count}" for split, count in rows.items()), err=True)
    if license_id is None:
        click.echo("no --license given: the card says no license was chosen", err=True)
    if result.pr_url:
        click.echo(f"opened a pull request with {len(result.rows)} config(s): {result.pr_url}", err=True)
    elif result.uploaded:
        click.echo(f"uploaded {len(result.rows)} config(s) to {result.url}", err=True)
    else:
        click.echo(f"dry run: nothing uploaded; load it with datasets.load_dataset({str(result.folder)!r}, CONFIG)",
                   err=True)
    click.echo(str(result.folder))
