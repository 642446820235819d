"""Batch APIs: submit, persist ids at once, poll, collect into the cache, resubmit only what errored or expired."""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.llm.base import Provider
from cogbeh.llm.retry import RetryPolicy, with_retries
from cogbeh.llm.session import Session
from cogbeh.llm.types import Completion, ProviderError, Request

LEDGER = "batches.jsonl"
#: A request that came back errored or expired this many times is rejected instead of resubmitted again.
MAX_BATCH_TRIES = 3
#: Requests per batch (Anthropic allows 100,000; OpenAI 50,000).
BATCH_LIMIT = 10_000
#: The paper over-requested by 5%.
OVER_REQUEST = 1.05
_POLICY = RetryPolicy(attempts=6)


@dataclass
class BatchEntry:
    """One submitted batch as the ledger remembers it."""

    id: str
    handle: dict[str, Any]
    items: dict[str, tuple[int, str]]  # custom_id -> (candidate index, cache key)
    ended: bool = False
    status: str = "submitted"
    counts: dict[str, int] = field(default_factory=dict)


class Ledger:
    """batches.jsonl: one fsynced line per event, so a batch id is on disk the moment it exists."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LEDGER
        self.entries: dict[str, BatchEntry] = {}
        self.canceled = False  # a `batch cancel` since the last main-job --resume: submit nothing new
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    self._apply(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after kill -9

    def _apply(self, event: dict[str, Any]) -> None:
        if event["event"] in ("cancel_requested", "resumed"):
            self.canceled = event["event"] == "cancel_requested"
        if event["event"] == "created":
            items = {cid: (int(index), key) for cid, index, key in event["items"]}
            self.entries[event["id"]] = BatchEntry(event["id"], event["handle"], items)
        elif event["id"] in self.entries:
            entry = self.entries[event["id"]]
            entry.status, entry.counts = event.get("status", entry.status), event.get("counts", entry.counts)
            entry.ended = entry.ended or event["event"] == "collected"

    def append(self, event: dict[str, Any]) -> None:
        """Write one event durably, then apply it."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**event, "time": round(time.time(), 3)}, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._apply(event)

    def pending(self) -> list[BatchEntry]:
        """Batches whose results have not been collected yet."""
        return [entry for entry in self.entries.values() if not entry.ended]

    def tries(self) -> Counter[int]:
        """How many batches each candidate index has been part of."""
        return Counter(index for entry in self.entries.values() for index, _ in entry.items.values())


#: Error kinds after which a batch create certainly did not happen (a timeout might hide a created batch).
_NOT_CREATED = frozenset({"rate_limit", "overloaded", "server"})


async def _call(coro_fn: Any, *, idempotent: bool = True) -> Any:
    return await with_retries(coro_fn, policy=_POLICY, retry_on=None if idempotent else _NOT_CREATED)


async def collect_ended(session: Session, provider: Provider, ledger: Ledger, control: Any) -> bool:
    """Poll pending batches (waiting if the job says so); cache every result. False if some are still running."""
    job = session.job
    while True:
        for entry in ledger.pending():
            state = await _call(lambda entry=entry: provider.batch_state(entry.handle))
            if not state.ended:
                continue
            results = await _call(lambda entry=entry: provider.batch_results(entry.handle))
            for custom_id, (index, key) in entry.items.items():
                result = results.get(custom_id)
                if isinstance(result, Completion) and key not in session.cache:
                    session.paid(key, index, result, batch=True, sync=False)  # one fsync for the batch below
                elif not isinstance(result, Completion):
                    session.tally.errors["batch_" + (result.kind if result else "missing")] += 1
            session.cache.sync()
            ledger.append({"event": "collected", "id": entry.id, "status": state.status, "counts": state.counts})
        if not ledger.pending():
            return True
        if not job.wait:
            return False
        for _ in range(max(1, math.ceil(job.poll_interval * 10))):
            if control.status is not None:
                return False
            await asyncio.sleep(0.1)


def advance(session: Session, tries: Counter[int]) -> None:
    """Judge candidates from the frontier on while each is resolved (cached, or out of batch tries)."""
    index = session.frontier
    while not session.done and session.problem(index) is not None:
        key, _, _ = session.request(index)
        cached = session.cache.get(key)
        if cached is not None:
            session.offer(session.judge(index, cached))
        elif tries[index] >= MAX_BATCH_TRIES:
            error = ProviderError("server", f"no result after {tries[index]} batches")
            session.offer(session.judge(index, error))
        else:
            return
        index += 1


def plan(session: Session, ledger: Ledger, tries: Counter[int]) -> tuple[list[tuple[str, int, str, Request]], str]:
    """The next batch: unresolved candidates (errored and expired first, by index) until enough are expected."""
    job = session.job
    need = (job.n - session.accepted) * OVER_REQUEST
    rate = session.acceptance_rate()
    pending = {index for entry in ledger.pending() for index, _ in entry.items.values()}
    chosen: list[tuple[str, int, str, Request]] = []
    expected, spent, index = 0.0, session.cache.total_cost(), session.frontier
    while expected < need and len(chosen) < BATCH_LIMIT:
        if session.problem(index) is None:
            return chosen, "max_attempts"
        key, request, _ = session.request(index)
        if key in session.cache or index in pending:
            expected += rate
        elif tries[index] < MAX_BATCH_TRIES:
            spent += session.estimate_cost(request, batch=True)
            if job.max_cost is not None and spent > job.max_cost:
                return chosen, "max_cost"
            chosen.append((f"c{index}-{key[:16]}", index, key, request))
            expected += rate
        index += 1
    return chosen, ""


async def run_batches(session: Session, provider: Provider, control: Any) -> list[str]:
    """Submit, wait, collect and judge until n are committed or a bound or Ctrl-C stops it; returns batch ids."""
    ledger = Ledger(session.job.out)
    if ledger.canceled and not control.collect_only:  # the main job's --resume lifts an earlier cancel
        ledger.append({"event": "resumed", "id": ""})
    while True:
        if not await collect_ended(session, provider, ledger, control):
            control.status = control.status or "batch_pending"
            break
        tries = ledger.tries()
        advance(session, tries)
        if session.done or control.status is not None:
            break
        if ledger.canceled:
            control.status = "canceled"
            break
        chosen, bound = plan(session, ledger, tries)
        if not chosen:
            control.status = bound or "max_attempts"
            break
        items = [(custom_id, request) for custom_id, _, _, request in chosen]
        handle = await _call(lambda items=items: provider.batch_submit(items), idempotent=False)
        session.tally.sent += len(items)
        ledger.append({"event": "created", "id": handle["id"], "handle": handle, "provider": provider.name,
                       "items": [[custom_id, index, key] for custom_id, index, key, _ in chosen]})
    return list(ledger.entries)
