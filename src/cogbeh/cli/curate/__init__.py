"""`cogbeh-gen curate classify|select|rewrite|distill`: curation of a math corpus (extra `curate`)."""

from __future__ import annotations

import click

from cogbeh.cli.lazy import LazyGroup

#: Each subcommand lives in its own module, imported on first use.
CURATE_COMMANDS: dict[str, str] = {
    "classify": "cogbeh.cli.curate.classify:classify",
    "select": "cogbeh.cli.curate.select:select",
    "rewrite": "cogbeh.cli.curate.rewrite:rewrite",
    "distill": "cogbeh.cli.curate.distill:distill",
    "agree": "cogbeh.cli.curate.agree:agree",
}


class _CurateCommands(LazyGroup):
    commands_table = CURATE_COMMANDS
    sort_commands = False  # the order of the recipe


@click.group("curate", cls=_CurateCommands, context_settings={"help_option_names": ["-h", "--help"]})
def curate() -> None:
    """Label a math corpus for the four behaviors, select rich and minimal sets, rewrite them for priming.

    The paper's pretraining recipe: `curate classify` (rules offline, or the paper's LLM judge),
    `curate select` (rich vs minimal under one token budget), `curate rewrite` (question / thoughts / answer,
    checked), then `train sft --data` on the rewrite folder.
    """
