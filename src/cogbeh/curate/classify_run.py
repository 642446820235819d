"""`classify_corpus`: shard a corpus, label every document through a datatrove executor, write the manifest.

A rerun of the same command resumes: the shards are reused, tasks with a completion marker are skipped, and a
task that was cut off restarts and rewrites its own `labelled/<rank>.jsonl`, so every document ends up in
exactly one row.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate import corpus, executors
from cogbeh.curate.executors import ExecutorOptions
from cogbeh.curate.labels import make_labeler
from cogbeh.curate.steps import LABELLED_DIR, LabelerFactory, LabelStep, classify_pipeline
from cogbeh.runfiles import (
    JOB,
    MANIFEST,
    FolderLock,
    is_empty,
    read_job,
    short_json,
    write_job,
    write_manifest,
)

#: What --overwrite removes (never anything else in --out, and not the LLM cache, which is keyed by prompt).
RUN_PATHS = (corpus.SHARDS_DIR, corpus.SHARDS_INDEX, LABELLED_DIR, executors.LOGS_DIR, JOB, MANIFEST)
#: Documents the dry run reads for the judge's cost estimate.
ESTIMATE_SAMPLE = 1000


class ClassifyError(ValueError):
    """A classify run that cannot start as asked (another run's folder, a changed identity, a bad judge)."""


@dataclass(frozen=True)
class JudgeSettings:
    """The judge spec and its options (LLM judges only; rules and fastText ignore them)."""

    spec: str = "rules"
    options: dict[str, Any] = field(default_factory=dict)
    truncate: int = 3072
    tokenizer: str = "test"
    chunk_size: int = 32


def classify_corpus(source: corpus.CorpusSource, out: Path, *, judge: JudgeSettings | None = None,
                    executor: ExecutorOptions | None = None, docs_per_shard: int = 1000, dry_run: bool = False,
                    overwrite: bool = False, labeler_factory: LabelerFactory | None = None) -> dict[str, Any]:
    """Label every document of `source` into `<out>/labelled/*.jsonl`; the manifest (or, dry, the plan) as a dict.

    ValueError subclasses (ClassifyError, CorpusError, ExecutorError, TokenizerError) carry one-line messages.
    """
    judge, executor = judge or JudgeSettings(), executor or ExecutorOptions()
    out = Path(out).expanduser().absolute()  # Slurm/Ray workers do not share our working directory
    executors.check_options(executor)
    executors.executor_arguments(executor, tasks=None, out=out)  # Slurm without a partition etc.: fail now
    labeler = _check_judge(judge, labeler_factory, need_key=not dry_run)
    _check_tokenizer(judge)
    _check_source(source)
    if dry_run:
        return _plan(source, out, judge, executor, docs_per_shard, labeler)
    executors.require_backend(executor)
    _check_folder(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out).acquire():
        if overwrite:
            _clear(out)
        return _run(source, out, judge, executor, docs_per_shard, labeler_factory)


def _run(source: corpus.CorpusSource, out: Path, judge: JudgeSettings, executor: ExecutorOptions,
         docs_per_shard: int, labeler_factory: LabelerFactory | None) -> dict[str, Any]:
    started = time.monotonic()
    identity = _identity(source, judge, docs_per_shard)
    previous = read_job(out)
    _check_same(out, identity, previous)
    index = corpus.shard_corpus(source, out, docs_per_shard=docs_per_shard)
    arguments = executors.executor_arguments(executor, tasks=index["shards"], out=out)
    job = {**identity, "tasks": arguments["tasks"], "executor": executor.kind}
    _check_same(out, {"tasks": job["tasks"]}, previous)
    write_job(out, job)
    step = LabelStep(judge.spec, options=judge.options, truncate=judge.truncate, tokenizer=judge.tokenizer,
                     chunk_size=judge.chunk_size, labeler_factory=labeler_factory)
    runner = executors.build_executor(executor, classify_pipeline(out, step), arguments)
    if runner.get_incomplete_ranks():  # all done: a rerun only rewrites the manifest
        try:
            runner.run()
        except Exception as err:  # a task raised; the others' output and completion markers stay
            message = " ".join(str(err).split())[:200]
            raise ClassifyError(f"the run stopped ({type(err).__name__}: {message}); logs in "
                                f"{out / executors.LOGS_DIR / 'logs'}; run the same command again to retry "
                                "the unfinished tasks") from None
    incomplete = runner.get_incomplete_ranks()
    if incomplete:  # Slurm returns once the array is submitted; a failed local task raises before this
        return {"status": "submitted" if executor.kind == "slurm" else "incomplete", "out": str(out),
                "incomplete_tasks": len(incomplete), "tasks": arguments["tasks"]}
    totals = _merge_stats(out / executors.LOGS_DIR, arguments["tasks"])
    manifest = {
        "status": "complete", "judge": judge.spec, "prompts": _prompts(judge), "truncate": judge.truncate,
        "tokenizer": {"source": judge.tokenizer, "approximate": judge.tokenizer == "test"},
        "source": index["source"], "documents_in_corpus": index["documents"], "shards": index["shards"],
        **executors.describe(executor, arguments), "tasks": arguments["tasks"],
        "documents": totals.get("documents", 0), "errors": totals.get("label_error", 0),
        "behaviors": {b: totals.get(b, 0) for b in BEHAVIORS},
        **{flag: totals.get(flag, 0) for flag in ("contains_problem", "contains_solution", "truncated")},
        "labelled": str(out / LABELLED_DIR), "stats": str(out / executors.LOGS_DIR / "stats.json"),
        "seconds": round(time.monotonic() - started, 2),
    }
    write_manifest(out, manifest)
    return manifest


def _check_source(source: corpus.CorpusSource) -> None:
    """Read the first document, so a missing file or column fails before --out is created."""
    from dataclasses import replace

    if next(corpus.read_corpus(replace(source, limit=1)), None) is None:
        raise ClassifyError(f"{source.location} holds no documents")


def _check_judge(judge: JudgeSettings, factory: LabelerFactory | None, *, need_key: bool) -> Any:
    """Build the labeler once here so a bad spec, a missing model file or API key fails before any work."""
    kind = judge.spec.partition(":")[0]
    if need_key and kind in ("anthropic", "openai") and not judge.options.get("base_url"):
        from cogbeh.llm import MissingKeyError, check_key

        try:
            check_key(kind)
        except MissingKeyError as err:
            raise ClassifyError(str(err).replace("--provider", "--judge")) from None
    try:
        return (factory or make_labeler)(judge.spec, rank=0, **judge.options)
    except (ValueError, OSError, RuntimeError) as err:
        raise ClassifyError(" ".join(str(err).split()) or type(err).__name__) from None


def _check_tokenizer(judge: JudgeSettings) -> None:
    if judge.truncate < 0:
        raise ClassifyError("--truncate takes a number of tokens, or 0 for no truncation")
    if judge.truncate:
        from cogbeh.tokenizer import load_tokenizer

        load_tokenizer(judge.tokenizer)  # TokenizerError: one line naming the source


def _check_folder(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ClassifyError(f"{out} exists and is not a folder; choose another --out")
    ours = (out / JOB).is_file() or (out / corpus.SHARDS_INDEX).is_file() or (out / corpus.SHARDS_DIR).is_dir()
    if not is_empty(out) and not ours and not overwrite:
        raise ClassifyError(f"{out} is not empty and holds no classify run; choose another --out")


def _clear(out: Path) -> None:
    for name in RUN_PATHS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _identity(source: corpus.CorpusSource, judge: JudgeSettings, docs_per_shard: int) -> dict[str, Any]:
    """What the labelled rows depend on: a rerun that changes any of it is refused."""
    return {"source": source.describe(), "judge": judge.spec, "prompts": _prompts(judge),
            "truncate": judge.truncate, "tokenizer": judge.tokenizer if judge.truncate else None,
            "text_column": source.text_column, "id_column": source.id_column, "docs_per_shard": docs_per_shard}


def _prompts(judge: JudgeSettings) -> str | None:
    is_llm = judge.spec.partition(":")[0] in ("anthropic", "openai")
    return judge.options.get("prompts") or "paper" if is_llm else None


def _check_same(out: Path, now: dict[str, Any], previous: dict[str, Any] | None) -> None:
    if previous is None:
        return
    changed = [key for key, value in now.items() if previous.get(key) != value]
    if changed:
        shown = ", ".join(f"{key} {short_json(now[key])} (was {short_json(previous.get(key))})" for key in changed)
        raise ClassifyError(f"{out} holds a run made differently: {shown}; "
                            "rerun with the same options, another --out, or --overwrite")


def _merge_stats(logs: Path, tasks: int) -> dict[str, int]:
    """Merge every task's stats into logs/stats.json (datatrove's own covers only this invocation's tasks).

    Returns the label step's counters: documents, label_error, one per behavior, problem/solution, truncated.
    """
    from datatrove.utils.stats import MetricStats, PipelineStats

    merged = PipelineStats()
    for rank in range(tasks):
        path = logs / "stats" / f"{rank:05d}.json"
        if path.is_file():
            merged = merged + PipelineStats.from_json(json.loads(path.read_text(encoding="utf-8")))
    (logs / "stats.json").write_text(merged.to_json(), encoding="utf-8")
    for step in merged.stats:
        if step.name.endswith(LabelStep.name):  # datatrove names a step's stats "<type>: <name>"
            # values read back from JSON stay plain numbers/dicts until something is added to them
            return {key: int((value if isinstance(value, MetricStats) else MetricStats.from_dict(value)).total)
                    for key, value in step.stats.items()}
    return {}


def _plan(source: corpus.CorpusSource, out: Path, judge: JudgeSettings, executor: ExecutorOptions,
          docs_per_shard: int, labeler: Any) -> dict[str, Any]:
    """What a run would do, writing nothing: shards, executor configuration, and the judge's estimate."""
    index = corpus.read_shard_index(out)
    reuse = index is not None and index.get("source") == source.describe()
    documents = index["documents"] if reuse and index else corpus.planned_documents(source)
    shards = index["shards"] if reuse and index else (
        None if documents is None else math.ceil(documents / docs_per_shard))
    arguments = executors.executor_arguments(executor, tasks=shards, out=out)
    plan: dict[str, Any] = {
        "dry_run": True, "out": str(out), "source": source.describe(), "documents": documents, "shards": shards,
        "docs_per_shard": docs_per_shard, "reuses_shards": reuse, "judge": judge.spec, "prompts": _prompts(judge),
        "truncate": judge.truncate, "tokenizer": judge.tokenizer, **executors.describe(executor, arguments)}
    if hasattr(labeler, "estimate") or hasattr(labeler, "preview"):
        plan.update(_judge_preview(source, judge, labeler))
    return plan


def _judge_preview(source: corpus.CorpusSource, judge: JudgeSettings, labeler: Any) -> dict[str, Any]:
    """The LLM judge's cost estimate on the first documents and one prompt as it would be sent."""
    from itertools import islice

    from cogbeh.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(judge.tokenizer) if judge.truncate else None
    texts = [corpus.truncate(doc["text"], tokenizer, judge.truncate)[0] if tokenizer else doc["text"]
             for doc in islice(corpus.read_corpus(source), ESTIMATE_SAMPLE)]
    shown: dict[str, Any] = {"estimate_documents": len(texts)}
    if hasattr(labeler, "estimate"):
        shown["estimate"] = labeler.estimate(texts)
    if hasattr(labeler, "preview") and texts:
        shown["prompt"] = labeler.preview(texts[0])
    return shown
