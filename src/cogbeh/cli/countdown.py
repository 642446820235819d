"""`cogbeh-gen solve` and `cogbeh-gen problems`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cogbeh.cli.errors import fail
from cogbeh.countdown import PRESETS, RULES, Problem, sample_problems, save_problems
from cogbeh.countdown import solve as solve_problem


@click.command()
@click.option("--nums", type=int, multiple=True, required=True, help="The numbers (repeat, or pass several).")
@click.argument("extra_nums", nargs=-1, type=int)
@click.option("--target", type=int, required=True, help="The value to make.")
@click.option("--all", "show_all", is_flag=True, help="Print every distinct solution, not just one.")
@click.option("--rules", type=click.Choice(RULES), default="standard", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many solutions.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {nums, target, rules, solvable, solutions}.")
def solve(
    nums: tuple[int, ...],
    extra_nums: tuple[int, ...],
    target: int,
    show_all: bool,
    rules: str,
    limit: int | None,
    as_json: bool,
) -> None:
    """Solve one Countdown problem, e.g. `cogbeh-gen solve --nums 25 30 3 4 --target 32`."""
    numbers = (*nums, *extra_nums)
    try:
        problem = Problem(numbers, target)
    except ValueError as err:
        fail(str(err))
    cap = limit if show_all or limit else 1
    solutions = solve_problem(problem.nums, problem.target, rules=rules, limit=cap)  # type: ignore[arg-type]
    if as_json:
        payload = {"nums": list(numbers), "target": target, "rules": rules, "solvable": bool(solutions)}
        click.echo(json.dumps({**payload, "solutions": solutions}))
        return
    if not solutions:
        click.echo(f"no solution: {', '.join(map(str, numbers))} cannot make {target} under {rules} rules")
        raise SystemExit(1)
    for text in solutions:
        click.echo(f"{text} = {target}")


@click.command()
@click.option("-n", "count", type=click.IntRange(min=1), required=True, help="How many problems.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default="paper", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="JSONL file (else stdout).")
@click.option("--keep-unsolvable", is_flag=True, help="Do not require solvability (e.g. classic W3 sets).")
def problems(count: int, preset: str, seed: int, out: Path | None, keep_unsolvable: bool) -> None:
    """Sample a seeded problem set as JSONL with `nums` and `target` (the Countdown-Tasks-3to4 shape)."""
    overrides = {"solvable": False} if keep_unsolvable else {}
    try:
        chosen = sample_problems(count, preset=preset, seed=seed, **overrides)
    except ValueError as err:  # more problems than the preset's space holds
        fail(f"-n {count}: {err}")
    if out is None:
        for problem in chosen:
            click.echo(json.dumps(problem.to_dict(), separators=(",", ":")))
        return
    try:
        save_problems(chosen, out)
    except OSError as err:
        fail(f"cannot write {out}: {err.strerror}; choose a writable --out path")
    click.echo(f"wrote {len(chosen)} problems to {out}", err=True)
