"""`cogbeh-gen curate classify|select|rewrite|distill`: curation of a math corpus (extra `curate`)."""

from __future__ import annotations

import importlib

import click

#: Each subcommand lives in its own module, imported on first use.
CURATE_COMMANDS: dict[str, str] = {
    "classify": "cogbeh.cli.curate.classify:classify",
    "select": "cogbeh.cli.curate.select:select",
    "rewrite": "cogbeh.cli.curate.rewrite:rewrite",
    "distill": "cogbeh.cli.curate.distill:distill",
}
#: Packages of the `curate` extra (import names): a command that cannot import one names the extra.
CURATE_EXTRA: tuple[str, ...] = ("datatrove", "math_verify", "latex2sympy2_extended", "fasttext", "rapidfuzz")
CURATE_EXTRA_HINT = "install the curate extra: pip install 'cogbeh-gen[curate]'"


def require_extra(*modules: str) -> None:
    """Import the extra's `modules` now, so a missing one stops the command before any work (or any payment).

    The ModuleNotFoundError reaches `cogbeh.cli.main`, which names the extra in one line.
    """
    for name in modules:
        importlib.import_module(name)


class _CurateGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(CURATE_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = CURATE_COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if (err.name or "").split(".")[0] in CURATE_EXTRA:
                raise click.UsageError(f"curate {cmd_name} needs the missing package {err.name!r}; "
                                       f"{CURATE_EXTRA_HINT}") from None
            raise
        return getattr(module, attribute)


@click.group("curate", cls=_CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
def curate() -> None:
    """Label a math corpus for the four behaviors, select rich and minimal sets, rewrite them for priming.

    The paper's pretraining recipe: `curate classify` (rules offline, or the paper's LLM judge),
    `curate select` (rich vs minimal under one token budget), `curate rewrite` (question / thoughts / answer,
    checked), then `train sft --data` on the rewrite folder.
    """
