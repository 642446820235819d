"""The paid generation loop: over-generate until exactly n are accepted, within attempt and cost bounds."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from cogbeh.llm.base import Provider
from cogbeh.llm.cost import estimate_tokens
from cogbeh.llm.job import LLMJob
from cogbeh.llm.limiter import Limiter
from cogbeh.llm.providers import api_key, make_provider
from cogbeh.llm.retry import RetryPolicy, with_retries
from cogbeh.llm.session import CountFn, Session
from cogbeh.llm.types import Completion, ProviderError, Request


class RunStopped(RuntimeError):
    """The run ended before n records; `status` says why (interrupted, max_cost, max_attempts, batch_pending)."""

    def __init__(self, status: str, message: str, manifest: dict[str, Any]) -> None:
        super().__init__(message)
        self.status = status
        self.manifest = manifest


@dataclass(frozen=True)
class LLMResult:
    """A finished run: its manifest (the records are in <out>/records.jsonl)."""

    manifest: dict[str, Any]


class Control:
    """Why the loop stops launching: Ctrl-C (once: drain; twice: cancel) or a bound."""

    def __init__(self) -> None:
        self.interrupts = 0
        self.status: str | None = None
        self.error = ""  # the scrubbed message of a fatal API error
        self.collect_only = False  # `batch collect`: never lift a `batch cancel`
        self.tasks: set[asyncio.Task[Any]] = set()

    def interrupt(self) -> None:
        self.interrupts += 1
        self.status = "interrupted"
        if self.interrupts > 1:  # a second Ctrl-C: stop waiting for what is in flight
            for task in self.tasks:
                task.cancel()


async def fetch(session: Session, provider: Provider, limiter: Limiter, policy: RetryPolicy, index: int,
                key: str, request: Request) -> Completion | ProviderError:
    """One candidate's request with retries; the response is cached (fsynced) before it is returned."""
    tally = session.tally
    tokens = estimate_tokens(request.system + request.user) + request.max_tokens

    async def attempt() -> Completion:
        async with limiter.slot(tokens):
            tally.sent += 1
            try:
                completion, rate = await provider.complete(request)
            except ProviderError as err:
                tally.errors[err.kind] += 1
                if err.rate is not None:
                    limiter.observe(err.rate, next_tokens=tokens)
                if err.kind == "rate_limit":  # everyone would get a 429 now: hold all new starts
                    limiter.pause(min(err.retry_after or 1.0, policy.retry_after_cap))
                raise
        limiter.observe(rate, next_tokens=tokens)
        return completion

    def retried(_: ProviderError) -> None:
        tally.retried += 1

    try:
        completion = await with_retries(attempt, policy=policy, on_error=retried)
    except ProviderError as err:
        tally.failed += 1
        return err
    await session.paid_durable(key, index, completion)
    return completion


def _wants_more(session: Session, in_flight: int) -> bool:
    # Launch only what the observed acceptance rate says is still needed: at most one round of surplus.
    expected = session.accepted + session.buffered_accepts() + in_flight * session.acceptance_rate()
    return expected < session.job.n


def _affordable(session: Session, request: Request, in_flight_cost: float) -> bool:
    job = session.job
    if job.max_cost is None:
        return True
    return session.cache.total_cost() + in_flight_cost + session.estimate_cost(request) <= job.max_cost


async def run_online(session: Session, provider: Provider, control: Control) -> None:
    """Keep up to `concurrency` requests in flight until n are committed or a bound stops new launches."""
    job = session.job
    limiter = Limiter(concurrency=job.concurrency, rpm=job.rpm, tpm=job.tpm)
    policy = RetryPolicy(attempts=job.retries + 1, base=job.backoff, retry_after_cap=job.retry_after_cap)
    tasks: dict[asyncio.Task[Completion | ProviderError], tuple[int, float]] = {}
    index = session.frontier
    while True:
        while control.status is None and not session.done and len(tasks) < job.concurrency:
            if session.problem(index) is None:
                control.status = "max_attempts" if not tasks else None
                break
            if not _wants_more(session, len(tasks)):
                break
            key, request, _ = session.request(index)
            cached = session.cache.get(key)
            if cached is not None:  # paid in an earlier process: never pay again
                session.tally.cache_hits += 1
                session.offer(session.judge(index, cached))
                index += 1
                continue
            in_flight_cost = sum(cost for _, cost in tasks.values())
            if not _affordable(session, request, in_flight_cost):
                control.status = "max_cost" if not tasks else None
                break
            task = asyncio.create_task(fetch(session, provider, limiter, policy, index, key, request))
            tasks[task] = (index, session.estimate_cost(request))
            control.tasks.add(task)
            index += 1
        if not tasks:
            return
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            position, _ = tasks.pop(task)
            control.tasks.discard(task)
            if task.cancelled():
                continue
            result = task.result()
            if isinstance(result, ProviderError) and _fatal(result, session):
                # Left uncommitted, so that --resume retries this candidate once the cause is fixed.
                retried = f" (still failing after {job.retries} retries)" if result.retryable else ""
                control.status, control.error = "api_error", f"{result}{retried}"
                continue
            session.offer(session.judge(position, result))


def _fatal(error: ProviderError, session: Session) -> bool:
    # Only a request the API refuses (4xx) after it has answered others is about that one prompt: a rejection.
    # Anything else that outlived its retries (no connection, 5xx, 529, 429, timeouts, broken bodies, a wrong
    # key, a setup the API refuses from the start) is a fault: stop, never consume the candidate.
    return error.kind != "request" or session.tally.answered == 0


def _install_sigint(control: Control) -> bool:
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, control.interrupt)
        return True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signal support
        return False


async def _main(job: LLMJob, *, progress: bool, count: CountFn | None, collect_only: bool) -> LLMResult:
    from cogbeh.llm import manifest as manifests
    from cogbeh.llm.batches import run_batches

    began = time.perf_counter()
    session = Session(job, count=count)
    control = Control()
    control.collect_only = collect_only
    installed = _install_sigint(control)
    bar = _progress(session, enabled=progress)
    provider = make_provider(job.provider, base_url=job.base_url, timeout=job.timeout)
    batch_ids: list[str] = []
    try:
        if job.batch:
            batch_ids = await run_batches(session, provider, control)
        else:
            await run_online(session, provider, control)
    except ProviderError as err:  # batch create / poll / results failed for good
        control.status, control.error = "api_error", str(err)
    except BaseException:
        session.release()  # no manifest after an unexpected error: free the folder at once
        raise
    finally:
        await provider.aclose()
        if installed:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        bar.close()
        session.close()
    status = "complete" if session.done else (control.status or "max_attempts")
    try:
        manifest = manifests.write(session, status=status, seconds=time.perf_counter() - began, batches=batch_ids,
                                   error=control.error)
    finally:
        session.release()
    if not session.done:
        session.error = control.error
        raise RunStopped(status, _stop_message(status, session), manifest)
    return LLMResult(manifest)


def _stop_message(status: str, session: Session) -> str:
    job, done = session.job, f"{session.accepted}/{session.job.n} accepted after {session.finished} candidates"
    hints = {
        "interrupted": f"interrupted with {done}; continue with --resume (cached responses are not paid again)",
        "max_cost": f"stopped at --max-cost {job.max_cost} with {done}; raise it and --resume",
        "max_attempts": f"stopped at the attempt budget with {done}; see rejected.jsonl, raise --max-attempts and --resume",
        "batch_pending": f"batch submitted ({done}); run `cogbeh-gen batch collect {job.out}` when it has ended",
        "canceled": f"batches were canceled ({done}); `--resume` the main job to submit again",
        "api_error": f"stopped by an API fault: {session.error}; {done}; fix the cause and --resume "
                     "(the failed problems are tried again, none is skipped)",
    }
    return hints.get(status, f"stopped ({status}) with {done}")


def _progress(session: Session, *, enabled: bool) -> Any:
    from tqdm import tqdm

    job = session.job
    bar = tqdm(total=job.n, initial=session.accepted, disable=not enabled, unit="rec", file=sys.stderr,
               desc=f"{job.provider}:{job.model}", leave=False, dynamic_ncols=True)

    def update(outcome: Any) -> None:
        if outcome.record is not None:
            bar.update(1)
        tally = session.tally
        bar.set_postfix_str(f"${session.cache.total_cost():.4f} sent={tally.sent} hits={tally.cache_hits}",
                            refresh=False)

    session.on_commit = update
    return bar


def run_llm(job: LLMJob, *, progress: bool = False, count: CountFn | None = None,
            collect_only: bool = False) -> LLMResult:
    """Run a paid job to exactly `job.n` records in `job.out`; raises RunStopped, MissingKeyError, ValueError.

    `collect_only` (batch collect): after a `batch cancel`, collect what finished but submit nothing new."""
    from cogbeh.runfiles import full_disk

    api_key(job.provider)  # a missing key is reported before any folder is touched
    try:
        return asyncio.run(_main(job, progress=progress, count=count, collect_only=collect_only))
    except OSError as err:
        full = full_disk(err, job.out)
        if full is None:
            raise
        raise full from None
