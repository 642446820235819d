"""`cogbeh-gen list` and `cogbeh-gen env`: printing only; the facts come from cogbeh.catalog."""

from __future__ import annotations

import json
from typing import Any

import click

from cogbeh.catalog import SECTIONS

#: Each section's heading: what it lists and the option that takes its names.
HEADINGS: dict[str, str] = {
    "behaviors": "behaviors (--behavior NAME, or NAME+NAME..., all, none)",
    "aliases": "condition aliases (--behavior ALIAS; the paper's names)",
    "controls": "controls (--control NAME, repeatable; aliases in parentheses)",
    "presets": "presets (--preset NAME)",
    "formats": "formats (--format NAME, repeatable)",
    "specs": "shipped specs (cogbeh-gen ablation PATH; train configs: cogbeh-gen train sft|rl --config PATH)",
}


@click.command(name="list")
@click.argument("section", required=False, type=click.Choice(SECTIONS))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def list_command(section: str | None, as_json: bool) -> None:
    """Behaviors, aliases, controls, presets, formats and shipped specs: every name the options accept."""
    from cogbeh.catalog import catalog

    found = catalog()
    chosen = {name: found[name] for name in ([section] if section else SECTIONS)}
    if as_json:
        click.echo(json.dumps(chosen, indent=2))
        return
    click.echo("\n\n".join(f"{HEADINGS[name]}\n{_table(name, rows)}" for name, rows in chosen.items()))


def _table(section: str, rows: dict[str, Any]) -> str:
    if section == "controls":
        rows = {name + (f" ({', '.join(c['aliases'])})" if c["aliases"] else ""): c["description"]
                for name, c in rows.items()}
    elif section == "specs":
        kinds = max((len(s["kind"]) for s in rows.values()), default=0)
        indent = " " * (max(map(len, rows), default=0) + 4)  # a description goes under its path
        rows = {name: f"{s['kind'].ljust(kinds)}  {s['path']}"
                + (f"\n{indent}{s['description']}" if s["description"] else "") for name, s in rows.items()}
    width = max((len(name) for name in rows), default=0)
    return "\n".join(f"  {name.ljust(width)}  {text}" for name, text in rows.items())


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
def env(as_json: bool) -> None:
    """Versions, platform, CPUs, torch/CUDA and the settings that matter, for bug reports."""
    from cogbeh.catalog import environment

    found = environment()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    click.echo("Copy this into bug reports (credentials are shown only as set/unset).\n")
    for key, value in found.items():
        if isinstance(value, dict):
            click.echo(f"- {key}:")
            for name, item in value.items():
                click.echo(f"    {name}: {_plain(item)}")
        else:
            click.echo(f"- {key}: {value}")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)
