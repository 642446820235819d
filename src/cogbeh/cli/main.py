"""Entry point: `cogbeh-gen [MAIN-JOB OPTIONS]` or `cogbeh-gen COMMAND ...`."""

from __future__ import annotations

import errno
import sys

import click

from cogbeh import __version__
from cogbeh.cli.errors import Interrupted, fail, print_error
from cogbeh.cli.generate import main_job_options, run_main_job
from cogbeh.cli.lazy import LazyGroup, extra_hint

#: Subcommands, imported only when used so that the main job never pays for torch, datasets or the SDKs.
SUBCOMMANDS: dict[str, str] = {
    "solve": "cogbeh.cli.countdown:solve",
    "problems": "cogbeh.cli.countdown:problems",
    "classify": "cogbeh.cli.classify:classify",
    "curate": "cogbeh.cli.curate:curate",
    "audit": "cogbeh.cli.audit:audit",
    "batch": "cogbeh.cli.batch:batch",
    "ablation": "cogbeh.cli.ablation:ablation",
    "publish": "cogbeh.cli.publish:publish",
    "merge": "cogbeh.cli.merge:merge",
    "inspect": "cogbeh.cli.inspection:inspect",
    "train": "cogbeh.cli.train:train",
    "eval": "cogbeh.cli.train:evaluate",
    "export": "cogbeh.cli.train:export",
    "reproduce": "cogbeh.cli.reproduce:reproduce",
    "list": "cogbeh.cli.info:list_command",
    "env": "cogbeh.cli.info:env",
}


class _Commands(LazyGroup):
    commands_table = SUBCOMMANDS


@click.group(cls=_Commands, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cogbeh-gen", message="%(prog)s %(version)s")
@main_job_options
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """Generate Countdown priming traces that show chosen cognitive behaviors.

    Without a COMMAND, runs the main job, e.g. `cogbeh-gen --behavior backtracking -n 1000`.
    """
    if ctx.invoked_subcommand is None:
        run_main_job(**options)
        return
    # Main-job options before a command would be dropped without a word: `cogbeh-gen -n 5 classify x`.
    given = [p.opts[0] for p in ctx.command.params
             if p.name and ctx.get_parameter_source(p.name) == click.core.ParameterSource.COMMANDLINE]
    if given:
        command = ctx.invoked_subcommand
        fail(f"{given[0]} is a main-job option and does nothing before the command {command!r}; "
             f"put the command first (see `cogbeh-gen {command} --help`)")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: every usage error is one line on stderr with exit status 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = cli.main(args=args, prog_name="cogbeh-gen", standalone_mode=False)
    except Interrupted as stop:
        click.echo(f"cogbeh-gen: {stop.message(args)}", err=True)
        sys.exit(130)
    except ModuleNotFoundError as err:
        hint = extra_hint(err)
        if hint is None:
            raise
        print_error(f"missing package {err.name!r}: {hint}")
        sys.exit(2)
    except click.Abort:
        print_error("aborted")
        sys.exit(130)
    except click.ClickException as err:
        print_error(err.format_message())
        sys.exit(err.exit_code)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        # A full disk anywhere the commands did not name the folder themselves (exports, publish, controls).
        where = f" writing {err.filename}" if err.filename else ""
        print_error(f"no space left on the device{where} ({err.strerror}); free some space and run again")
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
