"""The main job: `cogbeh-gen --behavior backtracking -n 1000 ...` (options and printing only)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import Interrupted, fail

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
                     help="Dead ends per trace (needs backtracking), at most 16; default 1-3, sampled per trace."),
        click.option("--backward-steps", default=None, metavar="K|LO-HI",
                     help="Backward-chaining steps per trace (needs backward_chaining), at most the preset's size "
                          "minus 2 (paper 2, classic 4); default: 1-3, as deep as fits."),
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
        click.option("--shard", default=None, metavar="I/N",
                     help="Make shard I of N (0-based) for a cluster array; `cogbeh-gen merge` joins the N "
                          "folders into the unsharded run's, byte for byte."),
        click.option("--no-behavior-filter", is_flag=True, help="Keep traces the classifier disagrees with."),
        click.option("--template-dir", type=click.Path(file_okay=False, exists=True), default=None,
                     help="Use these templates instead of the shipped ones."),
        click.option("--control", "controls", multiple=True, metavar="NAME",
                     help="Also derive a control into OUT/<control>/ (repeatable): empty_cot, length_matched "
                          "(dots), incorrect_only (no_positive), shuffled_steps, cue_stripped."),
        click.option("--tokenizer", default=None, metavar="PATH|HUB_ID",
                     help="Target model's tokenizer for length_matched (required there; "
                          "'test' for the small shipped test tokenizer)."),
        click.option("--format", "formats", multiple=True, metavar="FMT",
                     help="Extra formats (repeatable): parquet, dataset, trl, verl. records.jsonl is always written."),
        click.option("--test-size", default="0", show_default=True, metavar="N|FRACTION",
                     help="Problems held out for the test split of --format outputs: a count or a fraction."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary."),
        click.option("--preview", type=click.IntRange(min=1), default=None, metavar="K",
                     help="Print the first K records the run would make (prompt and completion) and "
                          "write nothing; -n may be left out. LLM providers: print K rendered prompts, "
                          "as --dry-run."),
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


def parse_range(text: str | None, *, flag: str = "--backtracks", most: int | None = None) -> tuple[int, int] | None:
    """'3' -> (3, 3); '1-4' -> (1, 4); refused past `most`."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", text)
    if not match:
        fail(f"{flag} takes a count like 3 or a range like 1-4, got {text!r}")
    parts = (match.group(1), match.group(2) or match.group(1))
    if most is not None and any(len(part) > 9 or int(part) > most for part in parts):  # before int(): '9' * 5000
        shown = text if len(text) <= 24 else text[:24] + "..."
        fail(f"{flag} is at most {most} per trace, got {shown!r}; e.g. {flag} 1-{most}")
    low, high = int(parts[0]), int(parts[1])
    if low > high:
        fail(f"{flag} range {text!r} is empty; write LOW-HIGH with LOW <= HIGH")
    return low, high


def run_main_job(**options: Any) -> None:
    """Validate options, run the pipeline, print the summary."""
    from cogbeh.behaviors import (
        MAX_BACKTRACKS,
        MAX_BACKWARD_STEPS,
        UnknownBehaviorError,
        condition_name,
        parse_condition,
    )

    if options["behavior"] is None:
        if options["count"] is None and options["preview"] is None:
            click.echo(click.get_current_context().get_help())
            return
        fail("--behavior is required, e.g. --behavior backtracking (or all, none, backtracking+verification)")
    try:
        behaviors = parse_condition(options["behavior"])
    except UnknownBehaviorError as err:
        fail(str(err))
    preview = options["preview"]
    count = preview if preview is not None and options["count"] is None else parse_count(options["count"])
    backtracks = parse_range(options["backtracks"], most=MAX_BACKTRACKS)
    if backtracks is not None and "backtracking" not in behaviors:
        fail(f"--backtracks needs backtracking in --behavior (got {condition_name(behaviors)!r})")
    if backtracks == (0, 0) or (backtracks and backtracks[0] == 0):
        fail("--backtracks must be at least 1 when backtracking is requested; drop backtracking for 0")
    backward = parse_range(options["backward_steps"], flag="--backward-steps", most=MAX_BACKWARD_STEPS)
    if backward is not None and ("backward_chaining" not in behaviors or backward[0] == 0):
        fail("--backward-steps needs backward_chaining in --behavior and a count of at least 1")
    if backward is not None:
        from cogbeh.countdown import PRESETS

        # Each backward step peels one number off the part still to be made, down to a pair.
        deepest = max(PRESETS[options["preset"]].sizes) - 2
        if backward[1] > deepest:  # the high end too: a chain that cannot be laid out is a rejection every time
            fail(f"--backward-steps {backward[1]} needs problems of {backward[1] + 2}+ numbers; preset "
                 f"{options['preset']!r} chains back at most {deepest} step(s) (try --preset classic)")
    options["backward_range"] = backward
    if options["resume"] and options["overwrite"]:
        fail("--resume and --overwrite contradict each other; pick one")
    _check_control_and_formats(options, count)
    _check_provider_options(options, backtracks)
    _check_shard(options)
    out = options["out"] or Path("outputs") / _default_name(condition_name(behaviors), count, options)
    exclude = tuple(_load_exclude(options["exclude"])) if options["exclude"] is not None else ()
    _check_supply(count, options, exclude)
    if preview is not None and options["provider"] == "symbolic":
        from cogbeh.cli.preview import preview_symbolic

        preview_symbolic(_job_config(behaviors, count, backtracks, out, exclude, options), preview, options)
        return
    options["dry_run"] = options.get("dry_run") or preview is not None  # an LLM preview is a dry run
    try:
        _generate_and_derive(behaviors, count, backtracks, out, exclude, options)
    except KeyboardInterrupt:  # Ctrl-C: what is on disk is complete lines; say how much and how to finish
        raise Interrupted(out / "records.jsonl", count) from None


def _generate_and_derive(behaviors: frozenset[str], count: int, backtracks: tuple[int, int] | None, out: Path,
                         exclude: tuple, options: dict[str, Any]) -> None:
    """Run the job, derive each --control from it, export --format outputs, print where they went."""
    if options["provider"] == "symbolic":
        _, records = _run_symbolic(behaviors, count, backtracks, out, exclude, options)
    else:
        folder = _run_llm(behaviors, count, out, exclude, options)
        if folder is None:  # a dry run, or a batch still pending: nothing to derive or export yet
            return
        from cogbeh.records import read_records

        records = list(read_records(folder / "records.jsonl"))
        _write_card(folder, records)
    derive_and_export(out, records, options, exclude)


def derive_and_export(out: Path, records: list[Any] | None, options: dict[str, Any], exclude: tuple) -> None:
    """Derive each --control from the run in `out`, export --format outputs, print where they went.

    `records` are the run's own (None: read from `out` when no control replaces them); the main job and
    `merge` finish a run the same way.
    """
    results = [_derive_control(out, c, options) for c in options["controls"]]
    if not results:
        from cogbeh.records import read_records

        results = [(out, records if records is not None else list(read_records(out / "records.jsonl")))]
    lines: list[str] = []
    for folder, made in results:
        exported = _export(folder, made, options, list(exclude)) if options["formats"] else None
        lines += format_outputs(out, folder, exported).splitlines()
    if not options["quiet"]:
        click.echo("\n".join(dict.fromkeys(lines)), err=True)  # the run's own row once, however many controls
    for folder, _ in results:
        click.echo(str(folder / "records.jsonl"))


def _write_card(folder: Path, records: list[Any]) -> None:
    """An LLM run folder gets the README.md a symbolic run writes itself (load_dataset(folder) works)."""
    import json

    from cogbeh.hub import write_run_card

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    write_run_card(folder, manifest, records)


def format_outputs(out: Path, folder: Path, exported: dict[str, Any] | None) -> str:
    """The summary's last rows: where the run's records, its control and its --format files were written."""
    rows = [("run records", str(out / "records.jsonl"))]
    if folder != out:
        rows.append(("control", str(folder / "records.jsonl")))
    for name in (exported or {}).get("files", []):
        fmt = name.split("/", 1)[0]
        rows.append((f"format {fmt}", str(folder / name)))
    if exported is not None:
        rows.append(("splits", str(folder / "splits.json")))
    from cogbeh.behaviors import BEHAVIORS

    # As wide as the summary table above it (its widest names are behaviors), so the columns line up.
    width = max(len("distinct 4-grams"), *map(len, BEHAVIORS), *(len(name) for name, _ in rows))
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)


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
        from cogbeh.countdown import take_problems

        budget = options["max_attempts"] or 3 * count + 50  # fewer when the preset's space runs out first
        problems = tuple(take_problems(budget, preset=options["preset"], seed=options["seed"], exclude=exclude))
    return run_llm_main_job(behaviors=behaviors, count=count, out=out, options=options, problems=problems)


def _check_control_and_formats(options: dict[str, Any], count: int) -> None:
    """Every --control, --tokenizer, --format and --test-size problem, before anything is generated."""
    from cogbeh.controls import ControlError, check_control
    from cogbeh.formats import FORMATS, ExportError, held_out_count, parse_test_size

    try:
        # Canonical names, each once: `--control dots --control length_matched` is one control.
        checked = [check_control(c, tokenizer=options["tokenizer"]) for c in options["controls"]]
        controls = tuple(dict.fromkeys(checked))
    except ControlError as err:
        fail(str(err))
    if options["tokenizer"] is not None and "length_matched" not in controls:
        fail("--tokenizer is only used by --control length_matched; add it or drop --tokenizer")
    if "incorrect_only" in controls and len(controls) > 1 and options["provider"] == "symbolic":
        # The symbolic engine makes incorrect_only by generating the run itself with wrong answers.
        fail("--control incorrect_only generates the whole symbolic run with wrong answers, so the other "
             "controls would derive from it; run incorrect_only on its own --out (or use "
             "`cogbeh-gen ablation`)")
    options["controls"] = controls
    options["control"] = controls[-1] if controls else None  # one control's name, for --preview
    unknown = [f for f in options["formats"] if f not in FORMATS]
    if unknown:
        fail(f"unknown --format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    try:
        options["test_size"] = parse_test_size(str(options["test_size"]))
    except ExportError as err:
        fail(str(err))
    if options["test_size"] and not options["formats"]:
        fail("--test-size splits the --format outputs; add --format parquet (or dataset, trl, verl)")
    try:  # each record is a distinct problem, so -n bounds the problems there are to hold out
        if options["test_size"] and held_out_count(count, options["test_size"]) >= count:
            fail(f"--test-size {options['test_size']} holds out all {count} problems; leave some for train")
    except ExportError as err:
        fail(f"--test-size: {err}")


def _default_name(condition: str, count: int, options: dict[str, Any]) -> str:
    suffix = "-incorrect" if options["incorrect"] else ""
    suffix += "".join(f"-{control}" for control in options["controls"])
    provider = "" if options["provider"] == "symbolic" else f"-{options['provider']}"
    shard = f"-shard{options['shard'][0]}of{options['shard'][1]}" if options.get("shard") else ""
    return f"{condition.replace('+', '_')}-n{count}-s{options['seed']}{provider}{suffix}{shard}"


def _job_config(behaviors: frozenset[str], count: int, backtracks: tuple[int, int] | None, out: Path,
                exclude: tuple, options: dict[str, Any]) -> Any:
    """The symbolic run's JobConfig (the run and --preview share it: a preview shows the run's records)."""
    from cogbeh.pipeline import JobConfig, auto_workers

    # Symbolic traces of a correct condition are all correct: incorrect_only takes the same structure in
    # incorrect mode on the same problems (as ablations do).
    incorrect = options["incorrect"] or "incorrect_only" in options["controls"]
    config = JobConfig(
        behaviors=behaviors, n=count, out=out, seed=options["seed"], preset=options["preset"],
        backtracks=backtracks, backward_steps=options["backward_range"], incorrect=incorrect,
        workers=options["workers"] or auto_workers(count),
        resume=options["resume"], overwrite=options["overwrite"], max_attempts=options["max_attempts"],
        behavior_filter=not options["no_behavior_filter"], template_dir=options["template_dir"], exclude=exclude,
    )
    if not options.get("shard"):
        return config
    from dataclasses import replace

    from cogbeh.shards import shard_block

    # A shard accepts its quota of the whole run's n, scanning its indices within the whole run's attempt bound.
    block = shard_block(options["shard"], count)
    return replace(config, n=block["quota"], max_attempts=config.attempt_budget(), shard=options["shard"],
                   extra_manifest={**config.extra_manifest, "shard": block})


def _check_shard(options: dict[str, Any]) -> None:
    """--shard I/N parsed, and refused where a shard's folder would not be a slice of one run."""
    if options.get("shard") is None:
        return
    from cogbeh.shards import parse_shard

    try:
        options["shard"] = parse_shard(options["shard"])
    except ValueError as err:
        fail(str(err))
    if options["provider"] != "symbolic":
        fail("--shard is for the symbolic engine; LLM runs resume and batch instead (--provider symbolic)")
    clash = next((flag for flag, key in (("--preview", "preview"), ("--control", "controls"),
                                         ("--format", "formats")) if options.get(key)), None)
    if clash:
        fail(f"{clash} applies to the whole run: drop it from the shards and pass it to `cogbeh-gen merge`")


def _check_supply(count: int, options: dict[str, Any], exclude: tuple) -> None:
    """Refuse an -n larger than the preset's space of distinct problems before anything runs."""
    from cogbeh.countdown.space import ProblemSupplyError, check_supply

    try:
        check_supply(count, preset=options["preset"], exclude=exclude)
    except ProblemSupplyError as err:
        fail(f"-n {count}: {err}")


def _run_symbolic(behaviors: frozenset[str], count: int, backtracks: tuple[int, int] | None, out: Path,
                  exclude: tuple, options: dict[str, Any]) -> tuple[Path, list[Any]]:
    from cogbeh.pipeline import GenerationError, run
    from cogbeh.runfiles import RunFolderError
    from cogbeh.templating import TemplateError

    config = _job_config(behaviors, count, backtracks, out, exclude, options)
    began = time.perf_counter()
    try:
        result = run(config, progress=not options["quiet"] and count >= 200)
    except (RunFolderError, TemplateError) as err:
        fail(str(err))
    except GenerationError as err:
        raise click.ClickException(str(err)) from None
    if not options["quiet"]:
        click.echo(format_summary(result.manifest, time.perf_counter() - began), err=True)
    return result.folder, result.records


def _derive_control(source: Path, control: str, options: dict[str, Any]) -> tuple[Path, list[Any]]:
    from cogbeh.ablation import derive_run
    from cogbeh.controls import ControlError, tokenizer_line
    from cogbeh.records import read_records

    target = source / control
    try:
        manifest = derive_run(source, control, target, tokenizer=options["tokenizer"], seed=options["seed"])
    except (ControlError, OSError, ValueError) as err:
        fail(f"--control {control}: {err}")
    line = tokenizer_line(manifest.get("control_stats", {}))
    if line and not options["quiet"]:
        click.echo(line, err=True)
    return target, list(read_records(target / "records.jsonl"))


def _export(folder: Path, records: list[Any], options: dict[str, Any], exclude: list[Any]) -> dict[str, Any]:
    from cogbeh.formats import ExportError, export

    try:
        return export(folder, records, list(options["formats"]), test_size=options["test_size"],
                      seed=options["seed"], exclude=exclude)
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
