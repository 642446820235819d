"""`cogbeh-gen curate classify INPUT --out DIR`: label a math corpus for the four behaviors, through datatrove."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cogbeh.behaviors import BEHAVIORS
from cogbeh.cli.errors import fail
from cogbeh.cli.lazy import require_extra


def _judge_options(prompts: str | None, base_url: str | None, max_cost: float | None, batch: bool,
                   concurrency: int | None, out: Path) -> dict[str, Any]:
    """Options for an LLM judge; rules and fastText ignore them (make_labeler passes them only to LLMs)."""
    options: dict[str, Any] = {"prompts": prompts, "base_url": base_url, "max_cost": max_cost,
                               "concurrency": concurrency, "cache_dir": str(out / "cache")}
    options = {key: value for key, value in options.items() if value is not None}
    if batch:
        options["batch"] = True
    return options


@click.command()
@click.argument("source", metavar="INPUT")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Run folder: shards/, labelled/*.jsonl, logs/, manifest.json. A rerun resumes it.")
@click.option("--judge", default="rules", show_default=True, metavar="rules|PROVIDER:MODEL|fasttext:PATH",
              help="Who labels: the offline rules, the paper's LLM judge (anthropic:/openai:), or a distilled model.")
@click.option("--prompts", type=click.Choice(["paper", "combined"]), default=None,
              help="LLM judge: the paper's four prompts (default) or one combined prompt, document first.")
@click.option("--base-url", default=None, help="LLM judge: an OpenAI-compatible server (vLLM, SGLang).")
@click.option("--max-cost", type=float, default=None, metavar="USD", help="LLM judge: stop before spending more.")
@click.option("--batch", is_flag=True, help="LLM judge: use the provider's batch API.")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, metavar="K",
              help="LLM judge: requests in flight per task.")
@click.option("--truncate", type=click.IntRange(min=0), default=3072, show_default=True, metavar="TOKENS",
              help="What the judge sees: first TOKENS tokens, back to the last newline (the paper); 0 = off.")
@click.option("--tokenizer", default="test", show_default=True, metavar="test|PATH",
              help="Tokenizer for --truncate; 'test' is the small shipped one (recorded as approximate).")
@click.option("--config", default=None, help="Dataset config (Hub or local dataset folder).")
@click.option("--split", default=None, help="Dataset split (default train).")
@click.option("--text-column", default="text", show_default=True)
@click.option("--id-column", default=None, help="Column of document ids [default: id if present, "
              "else <source>:<row>].")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N", help="First N documents only.")
@click.option("--docs-per-shard", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Documents per shard file (one shard is the unit a task resumes).")
@click.option("--executor", type=click.Choice(["local", "slurm", "ray"]), default="local", show_default=True)
@click.option("--tasks", type=click.IntRange(min=1), default=None, help="datatrove tasks [default: one per shard].")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="K",
              help="Tasks run at once [default: local: one per CPU; slurm/ray: all].")
@click.option("--partition", default=None, help="slurm: partition.")
@click.option("--time", "time_limit", default=None, help="slurm: time limit per task, e.g. 12:00:00.")
@click.option("--cpus-per-task", type=click.IntRange(min=1), default=None, help="slurm/ray: CPUs per task.")
@click.option("--mem-per-cpu-gb", type=click.FloatRange(min=0, min_open=True), default=None,
              help="slurm/ray: memory per CPU.")
@click.option("--venv-path", default=None, help="slurm: virtualenv activated in each job.")
@click.option("--slurm-arg", "slurm_args", multiple=True, metavar="KEY=VALUE",
              help="slurm: extra #SBATCH argument (repeatable), e.g. account=myproj.")
@click.option("--no-requeue", is_flag=True, help="slurm: do not requeue preempted tasks.")
@click.option("--dry-run", is_flag=True, help="Print the executor configuration (and the LLM judge's estimate "
              "and one prompt) as JSON; write nothing.")
@click.option("--overwrite", is_flag=True, help="Start the run folder over (the LLM cache is kept).")
def classify(source: str, out: Path, judge: str, prompts: str | None, base_url: str | None,
             max_cost: float | None, batch: bool, concurrency: int | None, truncate: int, tokenizer: str,
             config: str | None, split: str | None, text_column: str, id_column: str | None, limit: int | None,
             docs_per_shard: int, executor: str, tasks: int | None, workers: int | None, partition: str | None,
             time_limit: str | None, cpus_per_task: int | None, mem_per_cpu_gb: float | None,
             venv_path: str | None, slurm_args: tuple[str, ...], no_requeue: bool, dry_run: bool,
             overwrite: bool) -> None:
    """Label every document of INPUT with the four behavior counts and contains_problem/contains_solution.

    INPUT: a Hub dataset id (streamed; --config/--split), a local dataset folder, or Parquet/JSONL(.gz)
    files or folders of them. Inputs are cut into shard files and labelled by datatrove tasks; rerunning the
    same command after a crash or kill resumes (finished tasks are skipped, a cut-off task starts over).
    """
    require_extra("datatrove")  # before any work; imported here so `curate --help` does not load datatrove
    from cogbeh.curate.classify_run import JudgeSettings, classify_corpus
    from cogbeh.curate.corpus import CorpusSource
    from cogbeh.curate.executors import ExecutorOptions

    corpus = CorpusSource(source, config=config, split=split, text_column=text_column, id_column=id_column,
                          limit=limit)
    settings = JudgeSettings(judge, _judge_options(prompts, base_url, max_cost, batch, concurrency, out),
                             truncate=truncate, tokenizer=tokenizer)
    options = ExecutorOptions(executor, tasks=tasks, workers=workers, partition=partition, time=time_limit,  # type: ignore[arg-type]
                              cpus_per_task=cpus_per_task, mem_per_cpu_gb=mem_per_cpu_gb, venv_path=venv_path,
                              slurm_args=slurm_args, requeue=not no_requeue)
    try:
        result = classify_corpus(corpus, out, judge=settings, executor=options, docs_per_shard=docs_per_shard,
                                 dry_run=dry_run, overwrite=overwrite)
    except ValueError as err:  # CorpusError, ClassifyError, ExecutorError, TokenizerError: one line each
        fail(str(err))
    if dry_run:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(summary(result), err=True)
    click.echo(str(out))


def summary(result: dict[str, Any]) -> str:
    """A few lines for the terminal: documents, errors, share per behavior, where the rows are."""
    if result.get("status") != "complete":
        return (f"{result['status']}: {result['incomplete_tasks']} of {result['tasks']} tasks not finished yet; "
                f"run the same command again (when they finish) to resume and write {result['out']}/manifest.json")
    documents = result["documents"] or 1
    lines = [f"labelled {result['documents']} documents with {result['judge']} "
             f"({result['errors']} errors, {result['truncated']} truncated to {result['truncate']} tokens)"]
    lines += [f"  {behavior:<18} {result['behaviors'][behavior]:>8}  {result['behaviors'][behavior] / documents:6.1%}"
              for behavior in BEHAVIORS]
    lines.append(f"rows: {result['labelled']}/*.jsonl ({result['tasks']} tasks, {result['seconds']} s)")
    return "\n".join(lines)
