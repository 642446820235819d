"""run(config) -> records: sample problems, produce traces, validate, accept until n, write the run folder."""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS, condition_name
from cogbeh.countdown import Problem, iter_problems
from cogbeh.records import Record
from cogbeh.runfiles import (
    MANIFEST,
    RECORDS,
    REJECTED,
    RunFolderError,
    append_handle,
    full_disk,
    json_digest,
    prepare,
    read_job,
    resume_conflict,
    valid_lines,
    write_atomic,
    write_job,
    write_manifest,
)
from cogbeh.stats import summarise
from cogbeh.templating import check_templates, directory_hash, render, template_error, templates_hash
from cogbeh.traces import NoTrace, Shape, synthesize
from cogbeh.validate import assess
from cogbeh.versions import versions

QUERY_TEMPLATE = "prompts/query.jinja"
#: Default backtracks per trace when backtracking is requested and no count is given.
DEFAULT_BACKTRACKS = (1, 3)
#: Worker processes take candidates in chunks of this many indices.
CHUNK = 32


def auto_workers(n: int) -> int:
    """Worker processes when none are asked for: one per core (up to 4) once a run is big enough to repay the
    pool's start-up; records are byte-identical either way."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if n < 500 else max(1, min(4, cores))


class GenerationError(RuntimeError):
    """The run stopped at a bound before `n` records were accepted."""


@dataclass(frozen=True)
class JobConfig:
    """Everything that determines a symbolic run's records (and a few things that don't: workers, out)."""

    behaviors: frozenset[str]
    n: int
    out: Path
    seed: int = 0
    preset: str = "paper"
    backtracks: tuple[int, int] | None = None
    backward_steps: tuple[int, int] | None = None  # exact backward-chain length per trace (else 1-3, as deep as fits)
    incorrect: bool = False
    workers: int = 1
    resume: bool = False
    overwrite: bool = False
    max_attempts: int | None = None
    behavior_filter: bool = True
    template_dir: str | None = None
    problems: tuple[Problem, ...] | None = None  # a fixed problem list (ablations); else sampled from `preset`
    exclude: tuple[Problem, ...] = ()
    extra_manifest: dict[str, Any] = field(default_factory=dict)
    shard: tuple[int, int] | None = None  # (i, N): only candidate indices i mod N (see cogbeh.shards)

    @property
    def condition(self) -> str:
        """Canonical condition name."""
        return condition_name(self.behaviors)

    def attempt_budget(self) -> int:
        """Candidate problems tried at most before giving up."""
        return self.max_attempts if self.max_attempts is not None else 2 * self.n + 100


@dataclass(frozen=True)
class Outcome:
    """One candidate index: the record's JSON line, or a rejection line."""

    index: int
    record_line: str | None
    rejection_line: str | None
    reason: str | None


def shape_for(config: JobConfig, rng: random.Random) -> Shape:
    """The structure of one trace: which behaviors, how many backtracks, how deep the backward chain."""
    has = config.behaviors.__contains__
    low, high = config.backtracks or DEFAULT_BACKTRACKS
    backtracks = rng.randint(low, high) if has("backtracking") else 0
    return Shape(
        verification=has("verification"),
        backtracking=has("backtracking"),
        subgoal_setting=has("subgoal_setting"),
        backward_chaining=has("backward_chaining"),
        backtracks=backtracks,
        backward_depth=rng.randint(*(config.backward_steps or (1, 3))),
        backward_exact=config.backward_steps is not None,
        incorrect=config.incorrect,
    )


def produce(config: JobConfig, index: int, problem: Problem) -> Outcome:
    """Trace, validate and serialise candidate `index`: a pure function of (config, index, problem)."""
    from cogbeh.audit import audit_plan  # the guard: every sentence replayed over the true table
    from cogbeh.classify import count_behaviors  # the classifier is the judge of presence and absence

    rng = random.Random(f"{config.seed}:{config.condition}:{int(config.incorrect)}:{index}")
    shape = shape_for(config, rng)
    try:
        trace = synthesize(problem, shape, rng, template_root=config.template_dir)
    except NoTrace as err:
        return _rejection(index, problem, f"no_trace: {err}", None)
    except Exception as err:  # a broken --template-dir template: one line naming it and its line
        converted = template_error(err, "traces/trace.jinja", root=config.template_dir)
        if converted is None:
            raise
        raise converted from None
    findings = audit_plan(trace.steps, trace.text, problem.nums, problem.target, incorrect=config.incorrect,
                          min_backtracks=shape.backtracks)
    if findings:
        return _rejection(index, problem, f"audit: {findings[0]}", trace.text)
    verdict = assess(
        problem,
        trace.text,
        config.behaviors,
        count=count_behaviors,
        behavior_filter=config.behavior_filter,
        expect_correct=not config.incorrect,
    )
    if verdict.reason is not None:
        return _rejection(index, problem, verdict.reason, trace.text)
    record = Record(
        id=f"{config.condition}-{config.seed}-{index}",
        condition=config.condition,
        behaviors=[b for b in BEHAVIORS if b in config.behaviors],
        nums=list(problem.nums),
        target=problem.target,
        prompt=render(QUERY_TEMPLATE, root=config.template_dir, nums=problem.nums, target=problem.target),
        completion=trace.text,
        answer=verdict.answer,
        correct=verdict.correct,
        behavior_counts=verdict.counts,
        provider="symbolic",
        model=None,
        seed=config.seed,
        index=index,
        problem_id=problem.id,
        template_hash=_trace_templates_hash(config.template_dir),
    )
    return Outcome(index, record.to_json_line(), None, None)


def _rejection(index: int, problem: Problem, reason: str, text: str | None) -> Outcome:
    row = {"index": index, "problem_id": problem.id, "nums": list(problem.nums), "target": problem.target}
    line = json.dumps({**row, "reason": reason, "completion": text}, ensure_ascii=False, separators=(",", ":"))
    return Outcome(index, None, line, reason.split(":", 1)[0])


_HASHES: dict[str | None, str] = {}


def _trace_templates_hash(root: str | None) -> str:
    if root not in _HASHES:
        _HASHES[root] = directory_hash("traces", root=root)
    return _HASHES[root]


def _candidates(config: JobConfig, start: int) -> Iterator[tuple[int, Problem]]:
    budget = config.attempt_budget()
    if config.problems is not None:
        stream: Iterator[Problem] = iter(config.problems[:budget])
    else:
        stream = iter_problems(preset=config.preset, seed=config.seed, exclude=config.exclude)
    shard, count = config.shard or (0, 1)
    for index, problem in enumerate(islice(stream, budget)):
        if index >= start and index % count == shard:
            yield index, problem


_WORKER_CONFIG: JobConfig | None = None


def _init_worker(config: JobConfig) -> None:
    global _WORKER_CONFIG
    _WORKER_CONFIG = config
    # Ctrl-C reaches the whole process group: only the parent should stop. A worker killed mid-task loses
    # its batch, and the parent would wait for that batch forever.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _produce_in_worker(task: tuple[int, Problem]) -> Outcome:
    if _WORKER_CONFIG is None:  # the pool initializer sets it; reaching here without it is a programming error
        raise RuntimeError("worker started without its JobConfig")
    return produce(_WORKER_CONFIG, *task)


def _outcomes(config: JobConfig, start: int) -> Iterator[Outcome]:
    """Outcomes in index order; with workers, computed in parallel but yielded in the same order."""
    tasks = _candidates(config, start)
    if config.workers <= 1:
        for index, problem in tasks:
            yield produce(config, index, problem)
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    pool = context.Pool(config.workers, initializer=_init_worker, initargs=(config,))
    # Candidates go to the pool in small batches, two batches ahead of the one being consumed, so workers never
    # wait on the parent. Never handing over the whole budget matters: Pool.imap would queue every task, and
    # terminating a pool whose feeder thread is blocked on a full pipe can hang. On stop, the batches in flight
    # finish and the pool closes and joins: a clean shutdown, at the cost of at most two batches of unused work.
    size = config.workers * CHUNK * 2
    pending = deque(batch for batch in (_submit(pool, tasks, size), _submit(pool, tasks, size)) if batch)
    try:
        while pending:
            results = pending.popleft().get()
            following = _submit(pool, tasks, size)
            if following is not None:
                pending.append(following)
            yield from results
    finally:
        for batch in pending:
            batch.wait()
        pool.close()
        pool.join()


def _submit(pool: Any, tasks: Iterator[tuple[int, Problem]], size: int) -> Any:
    batch = list(islice(tasks, size))
    return pool.map_async(_produce_in_worker, batch, chunksize=CHUNK) if batch else None


@dataclass(frozen=True)
class RunResult:
    """What a finished run wrote and measured."""

    folder: Path
    manifest: dict[str, Any]
    records: list[Record]


def run(config: JobConfig, *, progress: bool = False) -> RunResult:
    """Generate until exactly `config.n` records are accepted (or the attempt budget runs out)."""
    began = time.perf_counter()
    if config.template_dir is not None:
        _preflight(config)
    with prepare(config.out, resume=config.resume, overwrite=config.overwrite):  # held to the end: one writer
        try:
            return _run(config, began, progress=progress)
        except OSError as err:
            full = full_disk(err, config.out)
            if full is None:
                raise
            raise full from None


def _preflight(config: JobConfig) -> None:
    """User templates compile, and render the first candidate, before the folder is touched (TemplateError)."""
    check_templates(config.template_dir or "")
    first = next(_candidates(config, 0), None)
    if first is not None:
        produce(config, *first)


def _run(config: JobConfig, began: float, *, progress: bool) -> RunResult:
    identity = job_identity(config)
    saved = read_job(config.out)
    records_path, rejected_path = config.out / RECORDS, config.out / REJECTED
    if saved is not None:
        _check_resume(config, saved, identity)
    kept = valid_lines(records_path)
    if saved is None and kept:
        raise RunFolderError(f"{config.out} holds records but no job.json to check --resume against (made by an "
                             "older cogbeh-gen); finish it with that version, or start over with --overwrite")
    write_job(config.out, identity)  # before any record: every later --resume is checked against it
    if len(kept) > config.n:
        raise GenerationError(f"{records_path} already holds {len(kept)} records, more than -n {config.n}")
    start = _read_records(records_path)[-1].index + 1 if kept else 0
    rejected = [line for line in valid_lines(rejected_path) if json.loads(line)["index"] < start]
    _rewrite(rejected_path, rejected)
    reasons: Counter[str] = Counter(json.loads(line)["reason"].split(":", 1)[0] for line in rejected)
    accepted, attempted = len(kept), start
    bar = _progress_bar(config.n, accepted, enabled=progress)
    outcomes = _outcomes(config, start)  # a generator: nothing starts (no pool) until it is iterated
    with append_handle(records_path) as out_records, append_handle(rejected_path) as out_rejected, closing(outcomes):
        for outcome in outcomes if accepted < config.n else ():
            attempted = outcome.index + 1
            # Flushed line by line, both files: a kill -9 then loses at most the line being written, and
            # rejected.jsonl never lags records.jsonl (a resume keeps the rejections below the last record).
            if outcome.record_line is not None:
                out_records.write(outcome.record_line + "\n")
                out_records.flush()
                accepted += 1
                bar.update(1)
            else:
                out_rejected.write(f"{outcome.rejection_line}\n")
                out_rejected.flush()
                reasons[outcome.reason or "unknown"] += 1
            if accepted >= config.n:
                break
    bar.close()
    records = _read_records(records_path)
    manifest = _manifest(config, records, attempted, reasons, time.perf_counter() - began)
    write_manifest(config.out, manifest)
    from cogbeh.hub import write_run_card  # a README.md naming records.jsonl: load_dataset(folder) works

    write_run_card(config.out, manifest, records)
    if accepted < config.n:
        raise GenerationError(
            f"stopped after {attempted} candidates with {accepted}/{config.n} accepted; "
            f"see {rejected_path} for reasons, or raise --max-attempts"
        )
    return RunResult(config.out, manifest, records)


#: Sampled problems fingerprinted in job.json: enough to notice another --exclude or a changed sampler.
FINGERPRINT_PROBLEMS = 64
#: job.json entries shown for information only: a resume may ask for more records, from another path.
_INFORMATIONAL = ("n", "template_dir", "versions")
#: How a --resume conflict names each entry of job.json.
_OPTION = {"provider": "--provider", "behavior": "--behavior", "seed": "--seed", "preset": "--preset",
           "backtracks": "--backtracks", "backward_steps": "--backward-steps", "incorrect": "--incorrect",
           "behavior_filter": "behavior_filter (--no-behavior-filter)", "exclude": "--exclude (sha256 of its ids)",
           "template_hashes": "templates (--template-dir contents)", "problems": "problem list",
           "shard": "--shard"}


def _options(config: JobConfig) -> dict[str, Any]:
    """The options that shape the records, as job.json and the manifest's arguments both state them."""
    return {
        "behavior": config.condition,
        "seed": config.seed,
        "preset": config.preset if config.problems is None else "explicit",
        "backtracks": list(config.backtracks) if config.backtracks else None,
        "backward_steps": list(config.backward_steps) if config.backward_steps else None,
        "incorrect": config.incorrect,
        "behavior_filter": config.behavior_filter,
    }


def _template_hashes(config: JobConfig) -> dict[str, str]:
    return {
        "traces": _trace_templates_hash(config.template_dir),
        "query": templates_hash([QUERY_TEMPLATE], root=config.template_dir),
    }


def job_identity(config: JobConfig) -> dict[str, Any]:
    """Everything that determines a symbolic run's records, as job.json keeps it."""
    problems = config.problems
    if problems is None:
        stream = iter_problems(preset=config.preset, seed=config.seed, exclude=config.exclude)
        problems = tuple(islice(stream, FINGERPRINT_PROBLEMS))
    return {
        "tool": "cogbeh-gen",
        "provider": "symbolic",
        **_options(config),
        "template_hashes": _template_hashes(config),
        "exclude": json_digest(sorted({p.id for p in config.exclude})) if config.exclude else None,
        "problems": {"count": len(problems), "sha256": json_digest([p.id for p in problems])},
        "shard": list(config.shard) if config.shard else None,
        "n": config.n,
        "template_dir": config.template_dir,
        "versions": versions(),
    }


def _check_resume(config: JobConfig, saved: dict[str, Any], now: dict[str, Any]) -> None:
    """RunFolderError naming every option that differs from the folder's job.json (n may grow)."""
    if saved.get("provider") != now["provider"]:
        raise resume_conflict(config.out, [("--provider", now["provider"], saved.get("provider"))])
    changes = [(_OPTION.get(key, key), now[key], saved.get(key)) for key in now
               if key not in (*_INFORMATIONAL, "tool", "problems") and saved.get(key) != now[key]]
    was = saved.get("problems") or {}
    count = was.get("count", -1)
    if config.problems is not None and 0 <= count <= len(config.problems):
        # An ablation extends its shared problem list between rounds: the list may grow, never change.
        same = json_digest([p.id for p in config.problems[:count]]) == was.get("sha256")
    else:
        same = was == now["problems"]
    if not same and (config.problems is not None or not changes):  # else a changed seed or preset explains it
        changes.append((_OPTION["problems"], _short(now["problems"]), _short(was)))
    if changes:
        raise resume_conflict(config.out, changes)


def _short(problems: dict[str, Any]) -> str:
    return f"{problems.get('count')} problems, sha256 {str(problems.get('sha256'))[:12]}"


def _read_records(path: Path) -> list[Record]:
    """Every record of a run file; a line that is JSON but not a record stops with its number."""
    from pydantic import ValidationError

    records = []
    for number, line in enumerate(valid_lines(path), start=1):
        try:
            records.append(Record.model_validate_json(line))
        except ValidationError as err:
            where = ".".join(str(part) for part in err.errors()[0]["loc"])
            raise RunFolderError(f"{path}: record {number} is not a valid record ({where}: "
                                 f"{err.errors()[0]['msg']}); cut the file before it and --resume, "
                                 "or start over with --overwrite") from None
    return records


def preview(config: JobConfig, k: int) -> tuple[list[Record], int]:
    """The first `k` records `run(config)` would accept, and the candidates tried for them; writes nothing."""
    records: list[Record] = []
    tried = 0
    with closing(_outcomes(replace(config, workers=1), 0)) as outcomes:
        for outcome in outcomes:
            tried = outcome.index + 1
            if outcome.record_line is not None:
                records.append(Record.model_validate_json(outcome.record_line))
                if len(records) >= k:
                    break
    return records, tried


def _rewrite(path: Path, lines: list[str]) -> None:
    if path.exists() or lines:
        write_atomic(path, "".join(line + "\n" for line in lines))


def _progress_bar(total: int, done: int, *, enabled: bool) -> Any:
    from tqdm import tqdm

    # disable=None: tqdm turns itself off when stderr is not a terminal (logs and pipes get no \r lines).
    return tqdm(total=total, initial=done, disable=None if enabled else True, unit="rec", desc="generating",
                leave=False)


def _manifest(
    config: JobConfig, records: list[Record], attempted: int, reasons: Counter[str], seconds: float
) -> dict[str, Any]:
    from cogbeh.formats import sha256_file

    digest = sha256_file(config.out / RECORDS)
    return {
        "tool": "cogbeh-gen",
        "versions": versions(),
        "arguments": {
            **_options(config),
            "n": config.n,
            "workers": config.workers,
            "template_dir": config.template_dir,
            **config.extra_manifest,
        },
        "condition": config.condition,
        "behaviors": sorted(config.behaviors),
        "provider": "symbolic",
        "model": None,
        "seed": config.seed,
        "template_hashes": _template_hashes(config),
        "counts": {
            "attempted": attempted,
            "accepted": len(records),
            "rejected": sum(reasons.values()),
            "rejected_by_reason": dict(sorted(reasons.items())),
        },
        "stats": summarise(records),
        "files": {RECORDS: {"sha256": digest, "rows": len(records)}, MANIFEST: None},
        "timing": {"seconds": round(seconds, 3)},
    }
