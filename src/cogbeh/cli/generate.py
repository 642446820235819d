"""The main job: `cogbeh-gen --behavior backtracking -n 1000 ...` (options and printing only)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail

F = Callable[..., Any]
PROVIDERS = ("symbolic", "anthropic", "openai")
PRESET_NAMES = ("paper", "tinyzero", "classic")


def main_job_options(command: F) -> F:
    """Attach the main job's options to the root command."""
    options = [
        click.option("--behavior", "-b", "behavior", default=None, metavar="NAME",
                     help="One behavior, a '+'-joined set, 'all', 'none', or a paper name (e.g. all_strategies)."),
        click.option("-n", "count", default=None, metavar="N", help="Records to accept (exactly this many)."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed: same seed and options, same bytes."),
        click.option("--preset", type=click.Choice(PRESET_NAMES), default="paper", show_default=True,
                     help="Problem distribution."),
        click.option("--backtracks", default=None, metavar="K|LO-HI",
                     help="Dead ends per trace (needs backtracking); default 1-3, sampled per trace."),
        click.option("--backward-steps", default=None, metavar="K|LO-HI",
                     help="Backward-chaining steps per trace (needs backward_chaining); default: 1-3, as deep as fits."),
        click.option("--incorrect", is_flag=True, help="Same structure, but every trace ends on a wrong answer."),
        click.option("--provider", type=click.Choice(PROVIDERS), default="symbolic", show_default=True,
                     help="Where traces come from: the offline symbolic engine or an LLM API."),
        click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Run folder (default: outputs/<condition>-n<N>-s<seed>)."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Processes (default: one per core, up to 4, for runs of 500+ records); output is "
                          "byte-identical for any count."),
        click.option("--resume", is_flag=True, help="Complete a partial run in --out."),
        click.option("--overwrite", is_flag=True, help="Replace the run files in --out."),
        click.option("--exclude", type=click.Path(exists=True, path_type=Path), default=None,
                     help="Problems (JSONL, Parquet or dataset folder with nums/target) that must never appear."),
        click.option("--max-attempts", type=click.IntRange(min=1), default=None, help="Candidates tried at most."),
        click.option("--no-behavior-filter", is_flag=True, help="Keep traces the classifier disagrees with."),
        click.option("--template-dir", type=click.Path(file_okay=False, exists=True), default=None,
                     help="Use these templates instead of the shipped ones."),
        click.option("--control", default=None, metavar="NAME",
                     help="Also derive a control into OUT/<control>/: empty_cot, length_matched (dots), "
                          "incorrect_only (no_positive), shuffled_steps, cue_stripped."),
        click.option("--tokenizer", default=None, metavar="PATH|HUB_ID",
                     help="Target model's tokenizer for length_matched (required there; "
                          "'test' for the small shipped test tokenizer)."),
        click.option("--format", "formats", multiple=True, metavar="FMT",
                     help="Extra formats (repeatable): parquet, dataset, trl, verl. records.jsonl is always written."),
        click.option("--test-size", default="0", show_default=True, metavar="N|FRACTION",
                     help="Problems held out for the test split of --format outputs: a count or a fraction."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary."),
    ]
    from cogbeh.cli.llm_job import llm_job_options  # the LLM providers' options (their logic loads lazily)

    command = llm_job_options(command)  # applied first, so --help lists them after the main options
    for option in reversed(options):
        command = option(command)
    return command


def parse_count(text: str | None) -> int:
    """-n as a positive integer, or a one-line error."""
    if text is None:
        fail("-n is required, e.g. `cogbeh-gen --behavior backtracking -n 1000`")
    try:
        value = int(str(text))
    except ValueError:
        fail(f"-n must be a whole number, got {text!r}")
    if value <= 0:
        fail(f"-n must be at least 1, got {value}")
    return value


def parse_range(text: str | None, *, flag: str = "--backtracks") -> tuple[int, int] | None:
    """'3' -> (3, 3); '1-4' -> (1, 4)."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", text)
    if not match:
        fail(f"{flag} takes a count like 3 or a range like 1-4, got {text!r}")
    low, high = int(match.group(1)), int(match.group(2) or match.group(1))
    if low > high:
        fail(f"{flag} range {text!r} is empty; write LOW-HIGH with LOW <= HIGH")
    return low, high


def run_main_job(**options: Any) -> None:
    """Validate options, run the pipeline, print the summary."""
    from cogbeh.behaviors import UnknownBehaviorError, condition_name, parse_condition

    if options["behavior"] is None:
        if options["count"] is None:
            click.echo(click.get_current_context().get_help())
            return
        fail("--behavior is required, e.g. --behavior backtracking (or all, none, backtracking+verification)")
    try:
        behaviors = parse_condition(options["behavior"])
    except UnknownBehaviorError as err:
        fail(str(err))
    count = parse_count(options["count"])
    backtracks = parse_range(options["backtracks"])
    if backtracks is not None and "backtracking" not in behaviors:
        fail(f"--backtracks needs backtracking in --behavior (got {condition_name(behaviors)!r})")
    if backtracks == (0, 0) or (backtracks and backtracks[0] == 0):
        fail("--backtracks must be at least 1 when backtracking is requested; drop backtracking for 0")
    backward = parse_range(options["backward_steps"], flag="--backward-steps")
    if backward is not None and ("backward_chaining" not in behaviors or backward[0] == 0):
        fail("--backward-steps needs backward_chaining in --behavior and a count of at least 1")
    if backward is not None:
        from cogbeh.countdown import PRESETS

        # Each backward step peels one number off the part still to be made, down to a pair.
        deepest = max(PRESETS[options["preset"]].sizes) - 2
        if backward[0] > deepest:
            fail(f"--backward-steps {backward[0]} needs problems of {backward[0] + 2}+ numbers; preset "
                 f"{options['preset']!r} chains back at most {deepest} step(s) (try --preset classic)")
    options["backward_range"] = backward
    if options["resume"] and options["overwrite"]:
        fail("--resume and --overwrite contradict each other; pick one")
    _check_control_and_formats(options)
    _check_provider_options(options, backtracks)
    out = options["out"] or Path("outputs") / _default_name(condition_name(behaviors), count, options)
    exclude = tuple(_load_exclude(options["exclude"])) if options["exclude"] is not None else ()
    if options["provider"] == "symbolic":
        folder, records = _run_symbolic(behaviors, count, backtracks, out, exclude, options)
    else:
        folder = _run_llm(behaviors, count, out, exclude, options)
        if folder is None:  # a dry run, or a batch still pending: nothing to derive or export yet
            return
        from cogbeh.records import read_records

        records = list(read_records(folder / "records.jsonl"))
    if options["control"] is not None:
        folder, records = _derive_control(out, options)
    if options["formats"]:
        _export(folder, records, options, list(exclude))
    click.echo(str(folder / "records.jsonl"))


def _llm_only_given(ctx: click.Context) -> list[str]:
    """Flags of the LLM providers' options that the user typed (the symbolic engine refuses, not ignores, them)."""
    from cogbeh.cli.llm_job import llm_job_options

    names = {param.name for param in llm_job_options(lambda: None).__click_params__}  # type: ignore[attr-defined]
    return [
        param.opts[0]
        for param in ctx.command.params
        if param.name in names and ctx.get_parameter_source(param.name) == click.core.ParameterSource.COMMANDLINE
    ]


def _check_provider_options(options: dict[str, Any], backtracks: tuple[int, int] | None) -> None:
    given = _llm_only_given(click.get_current_context())
    if options["provider"] == "symbolic" and given:
        fail(f"{given[0]} is for LLM providers; add --provider anthropic or --provider openai")
    if options["provider"] != "symbolic":
        if backtracks is not None or options["backward_steps"] is not None:
            fail("--backtracks and --backward-steps shape the symbolic engine's traces; LLM traces choose their own")
        if options["workers"] not in (None, 1):
            fail("--workers is for the symbolic engine; use --concurrency with LLM providers")


def _run_llm(behaviors: frozenset[str], count: int, out: Path, exclude: tuple, options: dict[str, Any]) -> Path | None:
    from cogbeh.cli.llm_job import run_llm_main_job

    problems = None
    if exclude:  # a fixed problem list drawn around the excluded problems
        from cogbeh.countdown import sample_problems

        budget = options["max_attempts"] or 3 * count + 50
        problems = tuple(sample_problems(budget, preset=options["preset"], seed=options["seed"], exclude=exclude))
    return run_llm_main_job(behaviors=behaviors, count=count, out=out, options=options, problems=problems)


def _check_control_and_formats(options: dict[str, Any]) -> None:
    from cogbeh.controls import ControlError, check_control
    from cogbeh.formats import FORMATS, ExportError, parse_test_size

    if options["control"] is not None:
        try:
            options["control"] = check_control(options["control"], tokenizer=options["tokenizer"])
        except ControlError as err:
            fail(str(err))
    elif options["tokenizer"] is not None:
        fail("--tokenizer is only used by --control length_matched; add it or drop --tokenizer")
    unknown = [f for f in options["formats"] if f not in FORMATS]
    if unknown:
        fail(f"unknown --format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    try:
        options["test_size"] = parse_test_size(str(options["test_size"]))
    except ExportError as err:
        fail(str(err))
    if options["test_size"] and not options["formats"]:
        fail("--test-size splits the --format outputs; add --format parquet (or dataset, trl, verl)")


def _default_name(condition: str, count: int, options: dict[str, Any]) -> str:
    suffix = "-incorrect" if options["incorrect"] else ""
    suffix += f"-{options['control']}" if options["control"] else ""
    provider = "" if options["provider"] == "symbolic" else f"-{options['provider']}"
    return f"{condition.replace('+', '_')}-n{count}-s{options['seed']}{provider}{suffix}"


def _run_symbolic(behaviors: frozenset[str], count: int, backtracks: tuple[int, int] | None, out: Path,
                  exclude: tuple, options: dict[str, Any]) -> tuple[Path, list[Any]]:
    from cogbeh.pipeline import GenerationError, JobConfig, auto_workers, run
    from cogbeh.runfiles import RunFolderError

    # Symbolic traces of a correct condition are all correct: incorrect_only takes the same structure in
    # incorrect mode on the same problems (as ablations do).
    incorrect = options["incorrect"] or options["control"] == "incorrect_only"
    config = JobConfig(
        behaviors=behaviors, n=count, out=out, seed=options["seed"], preset=options["preset"],
        backtracks=backtracks, backward_steps=options["backward_range"], incorrect=incorrect,
        workers=options["workers"] or auto_workers(count),
        resume=options["resume"], overwrite=options["overwrite"], max_attempts=options["max_attempts"],
        behavior_filter=not options["no_behavior_filter"], template_dir=options["template_dir"], exclude=exclude,
    )
    began = time.perf_counter()
    try:
        result = run(config, progress=not options["quiet"] and count >= 200)
    except RunFolderError as err:
        fail(str(err))
    except GenerationError as err:
        raise click.ClickException(str(err)) from None
    if not options["quiet"]:
        click.echo(format_summary(result.manifest, time.perf_counter() - began), err=True)
    return result.folder, result.records


def _derive_control(source: Path, options: dict[str, Any]) -> tuple[Path, list[Any]]:
    from cogbeh.ablation import derive_run
    from cogbeh.controls import ControlError, tokenizer_line
    from cogbeh.records import read_records

    target = source / options["control"]
    try:
        manifest = derive_run(source, options["control"], target, tokenizer=options["tokenizer"], seed=options["seed"])
    except (ControlError, OSError, ValueError) as err:
        fail(f"--control {options['control']}: {err}")
    line = tokenizer_line(manifest.get("control_stats", {}))
    if line and not options["quiet"]:
        click.echo(line, err=True)
    return target, list(read_records(target / "records.jsonl"))


def _export(folder: Path, records: list[Any], options: dict[str, Any], exclude: list[Any]) -> None:
    from cogbeh.formats import ExportError, export

    try:
        export(folder, records, list(options["formats"]), test_size=options["test_size"], seed=options["seed"],
               exclude=exclude)
    except ExportError as err:
        fail(f"--format: {err}")


def _load_exclude(path: Path) -> list[Any]:
    from cogbeh.countdown import load_problems

    try:
        return load_problems(path)
    except (ValueError, OSError) as err:
        fail(f"--exclude {path}: {err}")


def format_summary(manifest: dict[str, Any], seconds: float) -> str:
    """A small table: records, correct %, mean behavior counts, length stats, time."""
    stats, counts = manifest["stats"], manifest["counts"]
    rows = [
        ("condition", manifest["condition"]),
        ("records", f"{stats['records']} accepted / {counts['attempted']} tried ({counts['rejected']} rejected)"),
        ("correct", f"{100 * stats['correct_rate']:.1f}%"),
    ]
    for behavior, mean in stats["mean_behavior_counts"].items():
        share = 100 * stats["behavior_presence"][behavior]
        rows.append((behavior, f"mean {mean:.2f}, in {share:.1f}% of records"))
    chars, tokens = stats["length_chars"], stats["length_tokens"]
    rows.append(("length", f"median {chars['median']:.0f} chars / {tokens['median']:.0f} words, "
                           f"p95 {chars['p95']:.0f} / {tokens['p95']:.0f}"))
    rows.append(("distinct 4-grams", f"{stats['distinct_4gram_ratio']:.3f} over the first {stats['distinct_4gram_sample']} traces"))
    rows.append(("time", f"{seconds:.2f} s"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
