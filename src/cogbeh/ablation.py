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
from cogbeh.countdown import Problem, load_problems, sample_problems, save_problems
from cogbeh.formats import Split, export, sha256_file, split_by_problem
from cogbeh.records import Record
from cogbeh.runfiles import RECORDS, valid_lines, write_atomic
from cogbeh.spec import ConditionSpec, RunSpec
from cogbeh.versions import versions

MANIFEST, PROBLEMS, SPEC_COPY, GENERATED = "manifest.json", "problems.jsonl", "spec.json", "generated"
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


def _prepare(out: Path, spec: RunSpec, provider: str, *, resume: bool, overwrite: bool) -> None:
    fingerprint = {"spec": spec.model_dump(mode="json"), "provider": provider}
    if resume and overwrite:
        raise AblationError("--resume and --overwrite contradict each other; pick one")
    if out.exists() and not out.is_dir():
        raise AblationError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if overwrite:
            for name in [MANIFEST, PROBLEMS, SPEC_COPY, *(c.config for c in spec.conditions)]:
                target = out / name
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        elif not resume:
            raise AblationError(f"{out} is not empty; pass --resume to continue it or --overwrite to replace it")
        elif not (out / SPEC_COPY).exists() or json.loads((out / SPEC_COPY).read_text()) != fingerprint:
            raise AblationError(f"{out} was started from a different spec or provider; use another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / SPEC_COPY, json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")


def _generate(unit: Unit, spec: RunSpec, provider: str, problems: list[Problem], n: int, out: Path,
              workers: int) -> tuple[list[Record], dict[str, Any]]:
    """The seam between ablations and trace sources: the symbolic pipeline now, the LLM engine later."""
    if provider != "symbolic":
        return _generate_llm(unit, spec, provider, problems, n, out)
    from cogbeh.pipeline import GenerationError, JobConfig, run

    config = JobConfig(behaviors=unit.behaviors, n=n, out=unit.folder(out), seed=spec.seed, preset=spec.preset,
                       backtracks=unit.backtracks, incorrect=unit.incorrect, workers=workers, resume=True,
                       problems=tuple(problems), max_attempts=len(problems),
                       extra_manifest={"ablation": spec.name, "config": unit.config})
    try:
        result = run(config)
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
                  out: Path) -> tuple[list[Record], dict[str, Any]]:
    """The LLM engine under the same contract: a fixed problem list, records indexed by position, resumable."""
    from cogbeh.llm.job import LLMJob
    from cogbeh.llm.runner import RunStopped, run_llm

    folder = unit.folder(out)
    job = LLMJob(behaviors=unit.behaviors, n=n, out=folder, provider=provider, model=spec.model, seed=spec.seed,
                 preset=spec.preset, problems=tuple(problems), max_attempts=len(problems), resume=True,
                 correctness="incorrect" if unit.incorrect else "any")
    try:
        manifest = run_llm(job).manifest
    except RunStopped as stop:
        if stop.status != "max_attempts":  # the list ran out: the caller extends it, as for symbolic runs
            raise AblationError(f"{unit.config}: {stop}") from None
        manifest = stop.manifest
    records = [Record.model_validate_json(line) for line in valid_lines(folder / RECORDS)]
    return records, manifest


def shared_problems(spec: RunSpec, units: list[Unit], provider: str, out: Path, *, exclude: list[Problem],
                    workers: int, log: Log) -> tuple[list[Problem], list[int], dict[str, tuple[list[Record], dict]]]:
    """Over-generate every unit on one problem list until N problem indices are accepted by all of them."""
    need = spec.n_train + spec.n_test
    size = math.ceil(need * 1.05) + 10  # the paper over-requested by 5%
    # A resumed run may already hold records past the first list (an earlier round extended it): cover them.
    for unit in units:
        for line in valid_lines(unit.folder(out) / RECORDS)[-1:]:
            size = max(size, json.loads(line)["index"] + 1)
    problems = sample_problems(size, preset=spec.preset, seed=spec.seed, exclude=exclude)
    wanted = {u.config: max(need, len(valid_lines(u.folder(out) / RECORDS))) for u in units}
    for _ in range(MAX_ROUNDS):
        save_problems(problems, out / PROBLEMS)
        results = {u.config: _generate(u, spec, provider, problems, wanted[u.config], out, workers) for u in units}
        accepted = [{r.index for r in records} for records, _ in results.values()]
        common = sorted(set.intersection(*accepted)) if accepted else list(range(need))
        if len(common) >= need:
            return problems, common[:need], results
        deficit = need - len(common)
        log(f"{len(common)}/{need} problems accepted by every condition; generating {deficit} more each")
        for unit in units:
            wanted[unit.config] = len(results[unit.config][0]) + deficit
        # Prefix-stable sampling: extending the list keeps every index already generated.
        problems = sample_problems(len(problems) + 2 * deficit + 10, preset=spec.preset, seed=spec.seed,
                                   exclude=exclude)
    raise AblationError(f"no {need} problems accepted by every condition after {MAX_ROUNDS} rounds; "
                        "a condition rejects too many problems (see its generated/rejected.jsonl)")


def _condition_records(condition: ConditionSpec, spec: RunSpec, finals: dict[str, list[Record]],
                       generated: dict[str, list[Record]], *, tokenizer: str | None) -> tuple[list[Record], dict]:
    if condition.behavior is not None:
        return generated[condition.config], {}
    base = generated.get(condition.config) or finals[spec.source_of(condition).config]
    from cogbeh.controls import apply_control

    return apply_control(condition.control or "", base, tokenizer=tokenizer, seed=spec.seed)


def run_ablation(spec: RunSpec, *, out: Path, provider: str | None = None, resume: bool = False,
                 overwrite: bool = False, workers: int = 1, tokenizer: str | None = None,
                 exclude: str | None = None, log: Log = lambda _: None) -> dict[str, Any]:
    """Run every condition of `spec` into `out/<config>/` and write `out/manifest.json`; returns the manifest."""
    began = time.perf_counter()
    provider = provider or spec.provider
    tokenizer = tokenizer or spec.tokenizer
    exclude_path = exclude or spec.exclude
    excluded = load_problems(exclude_path) if exclude_path else []
    if provider != "symbolic":
        _check_llm_ready(spec, provider)  # before anything is written
    _check_controls(spec, tokenizer)
    _prepare(out, spec, provider, resume=resume, overwrite=overwrite)
    units = units_for(spec, provider)
    problems, chosen, results = shared_problems(spec, units, provider, out, exclude=excluded, workers=workers,
                                                log=log)
    keep = set(chosen)
    generated = {config: [r for r in records if r.index in keep] for config, (records, _) in results.items()}
    assignment = split_by_problem([problems[i].id for i in chosen], spec.n_test, seed=spec.seed)
    finals: dict[str, list[Record]] = {}
    entries: dict[str, dict[str, Any]] = {}
    # Behavior conditions first: a control derives from its source's final records.
    for condition in sorted(spec.conditions, key=lambda c: c.control is not None):
        records, control_stats = _condition_records(condition, spec, finals, generated, tokenizer=tokenizer)
        finals[condition.config] = records
        folder = out / condition.config
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / RECORDS, "".join(r.to_json_line() + "\n" for r in records))
        exported = export(folder, records, spec.formats, seed=spec.seed, assignment=assignment, exclude=excluded)
        unit_manifest = results.get(condition.config, (None, {}))[1]
        entries[condition.config] = _entry(condition, spec, records, exported, control_stats, unit_manifest, folder)
    manifest = _manifest(spec, provider, out, problems, chosen, assignment, entries, exclude_path, excluded,
                         time.perf_counter() - began)
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return manifest


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
    write_atomic(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
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
            "selected_indices_sha256": _digest(chosen),
            "exclude": exclude_path,
            "excluded": len(excluded),
        },
        "splits": {"train": spec.n_train, "test": len(test), "by": "problem", "test_problems_sha256": _digest(test)},
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


def _digest(items: list[Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(items).encode()).hexdigest()
