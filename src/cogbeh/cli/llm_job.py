"""The main job with `--provider anthropic|openai`: option parsing and printing only (logic in cogbeh.llm)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cogbeh.cli.errors import fail

F = Callable[..., Any]


def llm_job_options(command: F) -> F:
    """The LLM options of the main job (add to `main_job_options`); ignored with --provider symbolic."""
    options = [
        click.option("--model", default=None, metavar="NAME", help="Model name (needed with --provider anthropic|openai)."),
        click.option("--base-url", default=None, metavar="URL",
                     help="API endpoint (any OpenAI-compatible server); default: ANTHROPIC_BASE_URL / OPENAI_BASE_URL."),
        click.option("--concurrency", type=click.IntRange(min=1), default=16, show_default=True,
                     help="Requests in flight at most."),
        click.option("--rpm", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Requests per minute at most (lowered further by the provider's rate-limit headers)."),
        click.option("--tpm", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Tokens per minute at most."),
        click.option("--timeout", "request_timeout", type=click.FloatRange(min=0, min_open=True), default=120.0,
                     show_default=True, help="Seconds per request before it is retried."),
        click.option("--retries", type=click.IntRange(min=0), default=7, show_default=True,
                     help="Retries per request on 429/5xx/529/timeouts (backoff with jitter, retry-after capped)."),
        click.option("--max-cost", type=click.FloatRange(min=0), default=None, metavar="USD",
                     help="Stop cleanly before paid responses for this run folder would exceed this many dollars."),
        click.option("--temperature", type=click.FloatRange(min=0), default=None,
                     help="Sampling temperature (the paper used 0.5); default: the provider's."),
        click.option("--max-tokens", type=click.IntRange(min=1), default=1024, show_default=True,
                     help="Output tokens per answer at most."),
        click.option("--require-correct", is_flag=True, help="Keep only traces whose answer checks."),
        click.option("--batch", "use_batch", is_flag=True, help="Use the provider's batch API (half price, slower)."),
        click.option("--no-wait", is_flag=True, help="With --batch: submit and exit; collect with `batch collect`."),
        click.option("--poll-interval", type=click.FloatRange(min=0.01), default=30.0, show_default=True,
                     help="Seconds between batch status checks."),
        click.option("--dry-run", is_flag=True, help="Print the rendered prompts and a cost estimate; send nothing."),
        click.option("--prices", type=click.Path(dir_okay=False, exists=True), default=None,
                     help="YAML price file laid over the shipped table."),
        click.option("--cache", "cache_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Response cache shared between runs (default: <out>/responses.jsonl)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_job(*, behaviors: frozenset[str], count: int, out: Path, options: dict[str, Any]) -> Any:
    """An LLMJob from the parsed options; one-line errors for contradictions."""
    from cogbeh.llm.job import LLMJob

    get = options.get
    if not get("model"):
        fail(f"--provider {options['provider']} needs --model, e.g. --model claude-3-5-sonnet-20241022")
    if get("incorrect") and get("require_correct"):
        fail("--incorrect and --require-correct contradict each other; pick one")
    if get("no_wait") and not get("use_batch"):
        fail("--no-wait only applies with --batch")
    correctness = "incorrect" if get("incorrect") else "correct" if get("require_correct") else "any"
    return LLMJob(
        behaviors=behaviors, n=count, out=out, provider=options["provider"], model=options["model"],
        seed=get("seed", 0), preset=get("preset", "paper"), base_url=get("base_url"),
        temperature=get("temperature"), max_tokens=get("max_tokens", 1024), concurrency=get("concurrency", 16),
        rpm=get("rpm"), tpm=get("tpm"), timeout=get("request_timeout", 120.0), retries=get("retries", 7),
        max_attempts=get("max_attempts"), max_cost=get("max_cost"), correctness=correctness,
        behavior_filter=not get("no_behavior_filter", False), template_dir=get("template_dir"),
        prices=get("prices"), cache=get("cache_file"), batch=bool(get("use_batch")),
        poll_interval=get("poll_interval", 30.0), wait=not get("no_wait", False), resume=bool(get("resume")),
        overwrite=bool(get("overwrite")),
    )


def run_llm_main_job(
    *, behaviors: frozenset[str], count: int, out: Path, options: dict[str, Any], problems: tuple | None = None
) -> Path | None:
    """Validate, then dry-run or run; print the summary. Returns the run folder once n records are in."""
    import dataclasses

    from cogbeh.llm import MissingKeyError, check_key

    job = build_job(behaviors=behaviors, count=count, out=out, options=options)
    if problems is not None:
        job = dataclasses.replace(job, problems=problems)
    if options.get("dry_run"):
        from cogbeh.llm.dryrun import dry_run

        click.echo(dry_run(job, show=options.get("preview") or 3), nl=False)
        return None
    try:
        check_key(job.provider)
    except MissingKeyError as err:
        fail(str(err))
    return run_and_report(job, quiet=bool(options.get("quiet")), print_path=False)


def run_and_report(job: Any, *, quiet: bool, collect: bool = False, print_path: bool = True) -> Path | None:
    """Run (or collect) a job and print what happened; exit 130 after Ctrl-C, 0 while a batch is pending."""
    from cogbeh.llm.cost import PriceError
    from cogbeh.llm.runner import RunStopped, run_llm
    from cogbeh.templating import TemplateError

    began = time.perf_counter()
    try:
        if collect:
            from cogbeh.llm.batch_admin import batch_collect

            result = batch_collect(job.out, wait=job.wait, progress=not quiet)
        else:
            result = run_llm(job, progress=not quiet)
    except RunStopped as stop:
        if not quiet:
            click.echo(format_llm_summary(stop.manifest, time.perf_counter() - began), err=True)
        if stop.status == "batch_pending":
            click.echo(f"cogbeh-gen: {stop}", err=True)
            return None
        if stop.status == "interrupted":
            click.echo(f"cogbeh-gen: {stop}", err=True)
            raise SystemExit(130) from None
        raise click.ClickException(str(stop)) from None
    except (TemplateError, PriceError, ValueError, FileNotFoundError) as err:
        fail(str(err))
    if not quiet:
        click.echo(format_llm_summary(result.manifest, time.perf_counter() - began), err=True)
    if print_path:
        click.echo(str(job.out / "records.jsonl"))
    return job.out


def format_llm_summary(manifest: dict[str, Any], seconds: float) -> str:
    """The symbolic summary table plus requests, tokens and dollars."""
    from cogbeh.cli.generate import format_summary

    requests, cost, usage = manifest["requests"], manifest["cost_usd"], manifest["usage"]["this_process"]
    price = f"${cost['this_process']:.4f} this run, ${cost['all_paid_responses']:.4f} all paid responses"
    rows = [
        ("model", f"{manifest['provider']}:{manifest['model']} (prices {manifest['prices']['version']})"),
        ("requests", f"{requests['sent']} sent, {requests['answered']} answered, {requests['cache_hits']} from "
                     f"cache, {requests['retried']} retried, {requests['failed']} failed"),
        ("tokens", f"{usage['input_tokens']} in, {usage['output_tokens']} out, {usage['cache_read_tokens']} cache "
                   f"read, {usage['cache_write_tokens']} cache write"),
        ("cost", price if cost["priced"] else "unknown (no price for this model; see --prices)"),
        ("status", manifest["status"]),
    ]
    width = max(len(name) for name, _ in rows)
    extra = "\n".join(f"{name.ljust(width)}  {value}" for name, value in rows)
    return format_summary(manifest, seconds) + "\n" + extra
