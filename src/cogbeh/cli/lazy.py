"""Lazily imported subcommands, and the extras whose missing packages a command names in one line."""

from __future__ import annotations

import importlib

import click

#: The `train` extra's packages (import names).
TRAIN_EXTRA: tuple[str, ...] = ("torch", "transformers", "trl", "peft", "accelerate")
TRAIN_EXTRA_HINT = "install the train extra: pip install 'cogbeh-gen[train]'"
#: The `curate` extra's packages (import names).
CURATE_EXTRA: tuple[str, ...] = ("datatrove", "math_verify", "latex2sympy2_extended", "fasttext", "rapidfuzz")
CURATE_EXTRA_HINT = "install the curate extra: pip install 'cogbeh-gen[curate]'"


def extra_hint(err: ModuleNotFoundError) -> str | None:
    """How to install the extra a missing package belongs to (train or curate), or None for any other."""
    package = (err.name or "").split(".")[0]
    if package in TRAIN_EXTRA:
        return TRAIN_EXTRA_HINT
    return CURATE_EXTRA_HINT if package in CURATE_EXTRA else None


def require_extra(*modules: str) -> None:
    """Import the extra's `modules` now, so a missing one stops the command before any work (or any payment).

    The ModuleNotFoundError reaches `cogbeh.cli.main`, which names the extra in one line.
    """
    for name in modules:
        importlib.import_module(name)


class LazyGroup(click.Group):
    """A click group whose subcommands (`commands`: name -> 'module:attribute') are imported on first use
    (click's documented lazy-loading pattern), so the main job never pays for torch, datasets or the SDKs."""

    commands_table: dict[str, str] = {}
    sort_commands = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands_table) if self.sort_commands else list(self.commands_table)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.commands_table.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            hint = extra_hint(err)
            raise click.UsageError(f"command {cmd_name!r} needs the missing package {err.name!r}"
                                   + (f"; {hint}" if hint else "")) from None
        return getattr(module, attribute)
