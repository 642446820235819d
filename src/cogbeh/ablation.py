"""run_ablation(spec): every condition on one shared problem set, split identically, one manifest."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh.behaviors import parse_condition
from cogbeh.countdown import Problem, load_problems, save_problems, take_problems
from cogbeh.formats import Split, export, sha256_file, split_by_problem
from cogbeh.records import Record
from cogbeh.runfiles import (
    MANIFEST,
    RECORDS,
    FolderLock,
    check_not_locked,
    full_disk,
    is_empty,
    json_digest,
    resume_conflict,
    valid_lines,
    write_atomic,
    write_manifest,
)
from cogbeh.spec import ConditionSpec, RunSpec
from cogbeh.versions import versions

PROBLEMS, SPEC_COPY, GENERATED = "problems.jsonl", "spec.json", "generated"
#: Rounds of "generate a little more" before giving up on a shared problem set.
MAX_ROUNDS = 20

Log = Callable[[str], None]


class AblationError(RuntimeError):
    """The ablation cannot run as asked (folder in use, spec changed, provider not available, ...)."""


@dataclass(frozen=True)
class Unit:
    """One generation job: the traces a condition (or a symbolic incorrect_only control) is made from."""

    config: str
    behaviors: frozenset[str]
    backtracks: tuple[int, int] | None
    incorrect: bool

    def folder(self, out: Path) -> Path:
        """Where the pipeline writes this unit's over-generated run."""
        return out / self.config / GENERATED


def units_for(spec: RunSpec, provider: str) -> list[Unit]:
    """Generation units: each behavior condition, plus incorrect-mode sources for symbolic incorrect_only."""
    units = []
    for condition in spec.conditions:
        if condition.behavior is not None:
            units.append(_unit(condition.config, condition, condition.incorrect))
        elif condition.control == "incorrect_only" and provider == "symbolic":
            # Symbolic traces from a correct condition are all correct; generate the source's structure with a
            # wrong final answer instead, on the same problems, and let the filter confirm it.
            units.append(_unit(condition.config, spec.source_of(condition), True))
    return units


def _unit(config: str, condition: ConditionSpec, incorrect: bool) -> Unit:
    return Unit(config, parse_condition(condition.behavior or "none"), condition.backtrack_range, incorrect)


def _prepare(out: Path, spec: RunSpec, provider: str, *, resume: bool, overwrite: bool,
             fingerprint: dict[str, Any]) -> FolderLock:
    """Check and lock the ablation folder (held until the manifest is written); write spec.json."""
    fingerprint = {"spec": spec.model_dump(mode="json"), "provider": provider, **fingerprint}
    if resume and overwrite:
        raise AblationError("--resume and --overwrite contradict each other; pick one")
    if out.exists() and not out.is_dir():
        raise AblationError(f"{out} exists and is not a folder; choose another --out")
    check_not_locked(out)
    if not is_empty(out) and not (resume or overwrite):
        raise AblationError(f"{out} is not empty; pass --resume to continue it or --overwrite to replace it")
    if not is_empty(out) and resume:
        _check_fingerprint(out, fingerprint)
    out.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out).acquire()
    if overwrite:  # only under the lock: never delete what another process is writing
        for name in [MANIFEST, PROBLEMS, SPEC_COPY, *(c.config for c in spec.conditions)]:
            target = out / name
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    write_atomic(out / SPEC_COPY, json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")
    return lock


def _check_fingerprint(out: Path, now: dict[str, Any]) -> None:
    """RunFolderError naming what differs from the spec, provider, --exclude and --tokenizer `out` was made with."""
    try:
        saved = json.loads((out / SPEC_COPY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AblationError(f"{out} holds no readable {SPEC_COPY}: it was not made by `cogbeh-gen ablation`; "
                            "use another --out") from None
    was_spec, now_spec = saved.get("spec") or {}, now["spec"]
    changes = [(f"spec {key}", now_spec.get(key), was_spec.get(key))
               for key in sorted(set(was_spec) | set(now_spec)) if was_spec.get(key) != now_spec.get(key)]
    options = {"provider": "--provider", "exclude": "--exclude (sha256 of its ids)", "tokenizer": "--tokenizer"}
    changes += [(option, now.get(key), saved.get(key)) for key, option in options.items()
                if saved.get(key) != now.get(key)]
    if changes:
        raise AblationError(str(resume_conflict(out, changes)))


def _finished_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of a finished ablation (written last), or None; a damaged one is made again by resuming."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and "conditions" in manifest else None


def _load_exclude(path: str | None, *, from_spec: bool) -> list[Problem]:
    """The problems never to use; one-line AblationError for a file that cannot be read as problems."""
    if not path:
        return []
    try:
        return load_problems(path)
    except (ValueError, OSError) as err:
        where = f"the spec's 'exclude: {path}'" if from_spec else f"--exclude {path}"
        raise AblationError(f"{where}: {err}; give a JSONL/Parquet file or dataset folder with nums and target "
                            "(a path relative to the current folder)") from None


def unit_config(unit: Unit, spec: RunSpec, problems: list[Problem], n: int, out: Path, *, workers: int = 1,
                shard: tuple[int, int] | None = None) -> Any:
    """The symbolic pipeline's JobConfig for one unit on the shared problem list (a shard: its indices only)."""
    from cogbeh.pipeline import JobConfig
    from cogbeh.shards import shard_block

    extra = {"ablation": spec.name, "config": unit.config}
    if shard is not None:
        extra["shard"] = shard_block(shard, spec.n_train + spec.n_test)
    return JobConfig(behaviors=unit.behaviors, n=n, out=unit.folder(out), seed=spec.seed, preset=spec.preset,
                     backtracks=unit.backtracks, incorrect=unit.incorrect, workers=workers, resume=True,
                     problems=tuple(problems), max_attempts=len(problems), extra_manifest=extra, shard=shard)


def _generate(unit: Unit, spec: RunSpec, provider: str, problems: list[Problem], n: int, out: Path,
              workers: int, *, progress: bool = False,
              shard: tuple[int, int] | None = None) -> tuple[list[Record], dict[str, Any]]:
    """The seam between ablations and trace sources: the symbolic pipeline now, the LLM engine later."""
    if provider != "symbolic":
        return _generate_llm(unit, spec, provider, problems, n, out, progress=progress)
    from cogbeh.pipeline import GenerationError, run

    config = unit_config(unit, spec, problems, n, out, workers=workers, shard=shard)
    try:
        result = run(config, progress=progress)
        return result.records, result.manifest
    except GenerationError:  # the shared list ran out before n were accepted: the caller extends it
        folder = unit.folder(out)
        records = [Record.model_validate_json(line) for line in valid_lines(folder / RECORDS)]
        return records, json.loads((folder / MANIFEST).read_text())


def _check_controls(spec: RunSpec, tokenizer: str | None) -> None:
    """Every control's options complete (length_matched's tokenizer given and loadable) before generation."""
    from cogbeh.controls import ControlError, check_control

    for condition in spec.conditions:
        if condition.control is not None:
            try:
                check_control(condition.control, tokenizer=tokenizer)
            except ControlError as err:
                hint = " (or set 'tokenizer:' in the spec)" if tokenizer is None else ""
                raise AblationError(f"{spec.name}: condition {condition.config!r}: {err}{hint}") from None


def _check_llm_ready(spec: RunSpec, provider: str) -> None:
    from cogbeh.llm import MissingKeyError, check_key

    if not spec.model:
        raise AblationError(f"provider {provider!r} needs a model: set 'model' in the spec or pass --model")
    try:
        check_key(provider)
    except MissingKeyError as err:
        raise AblationError(str(err)) from None


def _generate_llm(unit: Unit, spec: RunSpec, provider: str, problems: list[Problem], n: int,
                  out: Path, *, progress: bool = False) -> tuple[list[Record], dict[str, Any]]:
    """The LLM engine under the same contract: a fixed problem list, records indexed by position, resumable."""
    from cogbeh.llm.job import LLMJob
    from cogbeh.llm.runner import RunStopped, run_llm

    folder = unit.folder(out)
    job = LLMJob(behaviors=unit.behaviors, n=n, out=folder, provider=provider, model=spec.model, seed=spec.seed,
                 preset=spec.preset, problems=tuple(problems), max_attempts=len(problems), resume=True,
                 correctness="incorrect" if unit.incorrect else "any")
    try:
        manifest = run_llm(job, progress=progress).manifest
    except RunStopped as stop:
        if stop.status != "max_attempts":  # the list ran out: the caller extends it, as for symbolic runs
            raise AblationError(f"{unit.config}: {stop}") from None
        manifest = stop.manifest
    records = [Record.model_validate_json(line) for line in valid_lines(folder / RECORDS)]
    return records, manifest


def shared_problems(spec: RunSpec, units: list[Unit], provider: str, out: Path, *, exclude: list[Problem],
                    workers: int, log: Log, bar: Any = None, shard: tuple[int, int] | None = None
                    ) -> tuple[list[Problem], list[int], dict[str, tuple[list[Record], dict]]]:
    """Over-generate every unit on one problem list until N problem indices are accepted by all of them.

    A shard (i, N) works on the indices i mod N only, until its quota of them (cogbeh.shards) is accepted by all.
    """
    from cogbeh.shards import shard_quota

    step = shard[1] if shard else 1  # the list holds every index; a shard uses one in `step`
    need = shard_quota(spec.n_train + spec.n_test, step)
    size = step * math.ceil(need * 1.05) + 10  # the paper over-requested by 5%
    # A resumed run may already hold records past the first list (an earlier round extended it): cover them.
    for unit in units:
        for line in valid_lines(unit.folder(out) / RECORDS)[-1:]:
            size = max(size, json.loads(line)["index"] + 1)
    problems = take_problems(size, preset=spec.preset, seed=spec.seed, exclude=exclude)
    wanted = {u.config: max(need, len(valid_lines(u.folder(out) / RECORDS))) for u in units}
    bar = bar if bar is not None else progress_bar(0, enabled=False)
    for round_number in range(MAX_ROUNDS):
        save_problems(problems, out / PROBLEMS)
        if round_number:  # another pass over every unit: the bar grows by as many steps
            bar.total += len(units)
            bar.refresh()
        results = {}
        for unit in units:
            bar.set_postfix_str(f"generating {unit.config}")
            results[unit.config] = _generate(unit, spec, provider, problems, wanted[unit.config], out,
                                             workers, progress=not bar.disable, shard=shard)
            bar.update(1)
        accepted = [{r.index for r in records} for records, _ in results.values()]
        common = sorted(set.intersection(*accepted)) if accepted else list(range(need))
        if len(common) >= need:
            return problems, common[:need], results
        deficit = need - len(common)
        log(f"{len(common)}/{need} problems accepted by every condition; generating {deficit} more each")
        for unit in units:
            wanted[unit.config] = len(results[unit.config][0]) + deficit
        # Prefix-stable sampling: extending the list keeps every index already generated.
        longer = take_problems(len(problems) + step * 2 * deficit + 10, preset=spec.preset, seed=spec.seed,
                               exclude=exclude)
        if len(longer) == len(problems):
            raise AblationError(f"only {len(common)}/{need} problems accepted by every condition, and the "
                                f"preset's {len(problems)} distinct problems are all used; lower n_train/n_test")
        problems = longer
    raise AblationError(f"no {need} problems accepted by every condition after {MAX_ROUNDS} rounds; "
                        "a condition rejects too many problems (see its generated/rejected.jsonl)")


def _above(bar: Any, log: Log) -> Log:
    """A log that clears the bar first, so its line does not land on the bar's (the bar redraws itself)."""

    def write(line: str) -> None:
        bar.clear()
        log(line)

    return write


def progress_bar(total: int, *, enabled: bool) -> Any:
    """The ablation's bar on stderr: one step per generation unit, then one per condition written."""
    from tqdm import tqdm

    # disable=None: tqdm turns itself off when stderr is not a terminal, as the main job's bar does.
    return tqdm(total=total, disable=None if enabled else True, unit="step", desc="ablation", leave=False)


def _condition_records(condition: ConditionSpec, spec: RunSpec, finals: dict[str, list[Record]],
                       generated: dict[str, list[Record]], *, tokenizer: str | None) -> tuple[list[Record], dict]:
    if condition.behavior is not None:
        return generated[condition.config], {}
    base = generated.get(condition.config) or finals[spec.source_of(condition).config]
    from cogbeh.controls import apply_control

    return apply_control(condition.control or "", base, tokenizer=tokenizer, seed=spec.seed)


def run_ablation(spec: RunSpec, *, out: Path, provider: str | None = None, resume: bool = False,
                 overwrite: bool = False, workers: int = 1, tokenizer: str | None = None,
                 exclude: str | None = None, log: Log = lambda _: None,
                 progress: bool = False, shard: tuple[int, int] | None = None) -> dict[str, Any]:
    """Run every condition of `spec` into `out/<config>/` and write `out/manifest.json`; returns the manifest.

    `progress` shows a bar on stderr (when it is a terminal) over the units generated and conditions written.
    `shard` (i, N) generates only shard i's part and stops; `cogbeh.shards.merge_ablations` finishes the run.
    """
    began = time.perf_counter()
    provider = provider or spec.provider
    tokenizer = tokenizer or spec.tokenizer
    exclude_path = exclude or spec.exclude
    excluded = _load_exclude(exclude_path, from_spec=not exclude)
    if provider != "symbolic":
        _check_llm_ready(spec, provider)  # before anything is written
    _check_controls(spec, tokenizer)
    _check_supply(spec, excluded)
    if shard is not None and provider != "symbolic":
        raise AblationError("--shard is for the symbolic engine; LLM ablations resume and batch instead")
    # Beyond spec and provider, what changes the records or controls: a --resume must not mix in others.
    fingerprint = {key: value for key, value in (
        ("exclude", json_digest(sorted({p.id for p in excluded})) if excluded else None),
        ("tokenizer", tokenizer if tokenizer != spec.tokenizer else None),
        ("shard", list(shard) if shard else None)) if value is not None}
    lock = _prepare(out, spec, provider, resume=resume, overwrite=overwrite, fingerprint=fingerprint)
    finished = _finished_manifest(out) if resume else None
    if finished is not None:
        lock.release()
        log(f"{out} is already complete (its manifest.json is written); nothing to do. "
            "Use --overwrite to make it again")
        return finished
    units = units_for(spec, provider)
    bar = progress_bar(len(units) + len(spec.conditions), enabled=progress)
    try:
        problems, chosen, results = shared_problems(spec, units, provider, out, exclude=excluded, workers=workers,
                                                    log=_above(bar, log), bar=bar, shard=shard)
        if shard is not None:  # a shard's part is generated: `cogbeh-gen merge` joins the shards and finishes
            manifest = _shard_manifest(spec, shard, results, exclude_path, tokenizer, time.perf_counter() - began)
            write_manifest(out, manifest)
            return manifest
        keep = set(chosen)
        generated = {config: [r for r in records if r.index in keep]
                     for config, (records, _) in results.items()}
        assignment = split_by_problem([problems[i].id for i in chosen], spec.n_test, seed=spec.seed)
        finals: dict[str, list[Record]] = {}
        entries: dict[str, dict[str, Any]] = {}
        # Behavior conditions first: a control derives from its source's final records.
        for condition in sorted(spec.conditions, key=lambda c: c.control is not None):
            bar.set_postfix_str(f"writing {condition.config}")
            records, control_stats = _condition_records(condition, spec, finals, generated,
                                                        tokenizer=tokenizer)
            finals[condition.config] = records
            folder = out / condition.config
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / RECORDS, "".join(r.to_json_line() + "\n" for r in records))
            exported = export(folder, records, spec.formats, seed=spec.seed, assignment=assignment,
                              exclude=excluded)
            unit_manifest = results.get(condition.config, (None, {}))[1]
            entries[condition.config] = _entry(condition, spec, records, exported, control_stats,
                                               unit_manifest, folder)
            bar.update(1)
        manifest = _manifest(spec, provider, out, problems, chosen, assignment, entries, exclude_path, excluded,
                             time.perf_counter() - began)
        write_manifest(out, manifest)
    except OSError as err:
        full = full_disk(err, out)
        if full is None:
            raise
        raise full from None
    finally:
        bar.close()  # also on errors, so the error line does not land on the bar's line
        lock.release()
    return manifest


def _check_supply(spec: RunSpec, excluded: list[Problem]) -> None:
    from cogbeh.countdown.space import ProblemSupplyError, check_supply

    try:
        check_supply(spec.n_train + spec.n_test, preset=spec.preset, exclude=excluded)
    except ProblemSupplyError as err:
        raise AblationError(f"{spec.name}: n_train + n_test = {spec.n_train + spec.n_test}: {err}") from None


def _shard_manifest(spec: RunSpec, shard: tuple[int, int], results: dict[str, tuple[list[Record], dict]],
                    exclude: str | None, tokenizer: str | None, seconds: float) -> dict[str, Any]:
    """What a shard of an ablation made: enough for merge to check the set and finish the ablation."""
    from cogbeh.shards import shard_block

    return {
        "tool": "cogbeh-gen ablation",
        "versions": versions(),
        "spec": spec.model_dump(mode="json"),
        "shard": shard_block(shard, spec.n_train + spec.n_test),
        "exclude": exclude,
        "tokenizer": tokenizer,
        "units": {config: {"records": len(records), "counts": unit.get("counts")}
                  for config, (records, unit) in results.items()},
        "timing": {"seconds": round(seconds, 3)},
    }


def derive_run(source: Path, control: str, out: Path, *, tokenizer: str | None = None,
               seed: int = 0) -> dict[str, Any]:
    """A control's run folder from a finished run folder: records.jsonl plus the source manifest, annotated."""
    from cogbeh.controls import apply_control
    from cogbeh.records import read_records

    records, stats = apply_control(control, list(read_records(source / RECORDS)), tokenizer=tokenizer, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / RECORDS, "".join(r.to_json_line() + "\n" for r in records))
    from cogbeh.stats import summarise

    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    manifest.update(control=stats["control"], control_stats=stats, source_folder=str(source),
                    stats=summarise(records), files={RECORDS: {"sha256": sha256_file(out / RECORDS),
                                                               "rows": len(records)}})
    write_manifest(out, manifest)
    from cogbeh.hub import write_run_card  # like the source folder: load_dataset(out) reads records.jsonl

    write_run_card(out, manifest, records)
    return manifest


def _entry(condition: ConditionSpec, spec: RunSpec, records: list[Record], exported: dict[str, Any],
           control_stats: dict[str, Any], unit_manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    from cogbeh.controls import CONTROLS
    from cogbeh.stats import summarise

    source = spec.source_of(condition).config if condition.control else None
    return {
        "condition": records[0].condition if records else condition.behavior,
        "behavior": condition.behavior,
        "control": condition.control,
        "control_description": CONTROLS[condition.control].description if condition.control else None,
        "source": source,
        "backtracks": list(condition.backtrack_range) if condition.backtrack_range else None,
        "incorrect": condition.incorrect or (condition.control == "incorrect_only"),
        "rows": exported["rows"],
        "stats": summarise(records),
        "control_stats": control_stats,
        "generation": {
            "counts": unit_manifest.get("counts"),
            "template_hashes": unit_manifest.get("template_hashes"),
            "provider": unit_manifest.get("provider"),
            "model": unit_manifest.get("model"),
            # Present for paid providers only: what the condition's responses cost.
            "requests": unit_manifest.get("requests"),
            "usage": unit_manifest.get("usage"),
            "cost_usd": unit_manifest.get("cost_usd"),
        },
        "files": {p.relative_to(folder).as_posix(): sha256_file(p)
                  for p in sorted(folder.rglob("*")) if p.is_file()},
    }


def _manifest(spec: RunSpec, provider: str, out: Path, problems: list[Problem], chosen: list[int],
              assignment: dict[str, Split], entries: dict[str, dict[str, Any]], exclude_path: str | None,
              excluded: list[Problem], seconds: float) -> dict[str, Any]:
    test = sorted(pid for pid, split in assignment.items() if split == "test")
    return {
        "tool": "cogbeh-gen ablation",
        "versions": versions("datasets", "pyarrow", "huggingface_hub", "tokenizers"),
        "spec": spec.model_dump(mode="json"),
        "seed": spec.seed,
        "provider": provider,
        "model": spec.model,
        "problems": {
            "file": PROBLEMS,
            "sha256": sha256_file(out / PROBLEMS),
            "candidates": len(problems),
            "selected": len(chosen),
            "selected_indices_sha256": json_digest(chosen),
            "exclude": exclude_path,
            "excluded": len(excluded),
        },
        "splits": {"train": spec.n_train, "test": len(test), "by": "problem", "test_problems_sha256": json_digest(test)},
        "conditions": entries,
        "config_order": [c.config for c in spec.conditions],
        # Paid providers: the sum over conditions of what their responses cost; the symbolic engine pays nothing.
        "cost": _total_cost(entries),
        "timing": {"seconds": round(seconds, 3)},
    }


def _total_cost(entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total = {"usd": 0.0, "input_tokens": 0, "output_tokens": 0, "requests": 0}
    for entry in entries.values():
        unit = entry.get("generation") or {}
        total["usd"] += (unit.get("cost_usd") or {}).get("all_paid_responses", 0.0)
        usage = (unit.get("usage") or {}).get("all_paid_responses") or {}
        total["input_tokens"] += usage.get("input_tokens", 0)
        total["output_tokens"] += usage.get("output_tokens", 0)
        total["requests"] += (unit.get("requests") or {}).get("answered", 0)
    total["usd"] = round(total["usd"], 6)
    return total


