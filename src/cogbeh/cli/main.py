"""Entry point: `cogbeh-gen [MAIN-JOB OPTIONS]` or `cogbeh-gen COMMAND ...`."""

from __future__ import annotations

import importlib
import sys

import click

from cogbeh.cli.errors import print_error
from cogbeh.cli.generate import main_job_options, run_main_job

#: Subcommands, imported only when used so that the main job never pays for torch, datasets or the SDKs.
SUBCOMMANDS: dict[str, str] = {
    "solve": "cogbeh.cli.countdown:solve",
    "problems": "cogbeh.cli.countdown:problems",
    "classify": "cogbeh.cli.classify:classify",
    "audit": "cogbeh.cli.audit:audit",
    "batch": "cogbeh.cli.batch:batch",
    "ablation": "cogbeh.cli.ablation:ablation",
    "publish": "cogbeh.cli.publish:publish",
    "train": "cogbeh.cli.train:train",
    "eval": "cogbeh.cli.train:evaluate",
    "export": "cogbeh.cli.train:export",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            raise click.UsageError(f"command {cmd_name!r} needs the missing package {err.name!r}") from None
        return getattr(module, attribute)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@main_job_options
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """Generate Countdown priming traces that show chosen cognitive behaviors.

    Without a COMMAND, runs the main job, e.g. `cogbeh-gen --behavior backtracking -n 1000`.
    """
    if ctx.invoked_subcommand is None:
        run_main_job(**options)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: every usage error is one line on stderr with exit status 2."""
    try:
        result = cli.main(args=argv, prog_name="cogbeh-gen", standalone_mode=False)
    except click.Abort:
        print_error("aborted")
        sys.exit(130)
    except click.ClickException as err:
        print_error(err.format_message())
        sys.exit(err.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
