"""`batch status|collect|cancel DIR` from any later process, driven by the run folder's job.json and ledger."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from cogbeh.llm.batches import Ledger
from cogbeh.llm.job import LLMJob, load_job
from cogbeh.llm.providers import api_key, make_provider


def _job(folder: Path, base_url: str | None) -> LLMJob:
    job = load_job(folder)
    if not job.batch:
        raise ValueError(f"{folder} is an online run, not a batch run; continue it with --resume")
    api_key(job.provider)
    return replace(job, base_url=base_url) if base_url else job


async def _each_pending(job: LLMJob, action: str) -> list[dict[str, Any]]:
    ledger = Ledger(job.out)
    provider = make_provider(job.provider, base_url=job.base_url, timeout=job.timeout)
    rows: list[dict[str, Any]] = []
    try:
        for entry in ledger.entries.values():
            row = {"id": entry.id, "requests": len(entry.items), "status": entry.status, "counts": entry.counts,
                   "collected": entry.ended}
            if not entry.ended:
                call = provider.batch_cancel if action == "cancel" else provider.batch_state
                state = await call(entry.handle)
                row.update(status=state.status, counts=state.counts)
                if action == "cancel":
                    ledger.append({"event": "cancel_requested", "id": entry.id, "status": state.status})
            rows.append(row)
    finally:
        await provider.aclose()
    return rows


def batch_status(folder: Path, *, base_url: str | None = None) -> list[dict[str, Any]]:
    """One row per batch of the run: id, request count, provider status, counts, collected or not."""
    return asyncio.run(_each_pending(_job(folder, base_url), "status"))


def batch_cancel(folder: Path, *, base_url: str | None = None) -> list[dict[str, Any]]:
    """Ask the provider to cancel every uncollected batch; finished requests stay collectable."""
    return asyncio.run(_each_pending(_job(folder, base_url), "cancel"))


def batch_collect(folder: Path, *, wait: bool = False, base_url: str | None = None, progress: bool = False) -> Any:
    """Collect ended batches into the cache and finish the run, resubmitting only errored or expired requests
    (and new candidates if rejections left it short). Raises RunStopped('batch_pending') while one still runs."""
    from cogbeh.llm.runner import run_llm

    return run_llm(replace(_job(folder, base_url), wait=wait), progress=progress, collect_only=True)
