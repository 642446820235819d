"""The manifest of an LLM run: options, template hashes, prices, wire counts, usage, cost, reasons, stats."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from cogbeh.llm.prompts import QUERY_TEMPLATE
from cogbeh.llm.session import Session
from cogbeh.llm.types import Usage
from cogbeh.records import Record
from cogbeh.runfiles import MANIFEST, RECORDS, valid_lines, write_manifest
from cogbeh.stats import summarise
from cogbeh.templating import templates_hash
from cogbeh.versions import versions


def cache_usage(session: Session) -> tuple[Usage, int]:
    """Usage summed over every paid response in the cache, and how many there are."""
    total = Usage()
    for completion in session.cache.completions():
        total += completion.usage
    return total, len(session.cache)


def build_manifest(session: Session, *, status: str, seconds: float, batches: list[str],
                   error: str = "") -> dict[str, Any]:
    """Everything a reader needs to trust and reproduce the run; never a key or a credentialed URL."""
    job, tally = session.job, session.tally
    records = [Record.model_validate_json(line) for line in valid_lines(job.out / RECORDS)]
    digest = hashlib.sha256((job.out / RECORDS).read_bytes()).hexdigest() if (job.out / RECORDS).exists() else None
    price = session.prices.price(job.provider, job.model)
    usage_all, responses = cache_usage(session)
    return {
        "tool": "cogbeh-gen",
        "versions": versions("anthropic", "openai"),
        "arguments": job.public(),
        "status": status,
        "error": error or None,  # already scrubbed of secrets
        "condition": job.condition,
        "behaviors": sorted(job.behaviors),
        "provider": job.provider,
        "model": job.model,
        "served_models": sorted(m for m in tally.served_models if m),
        "seed": job.seed,
        "template_hashes": {
            "prompts": session.template_hash,
            "query": templates_hash([QUERY_TEMPLATE], root=job.template_dir),
        },
        "prices": {"version": session.prices.version, "model": price.model_dump() if price else None},
        "counts": {
            "attempted": session.finished,
            "accepted": len(records),
            "rejected": sum(session.reasons.values()),
            "rejected_by_reason": dict(sorted(session.reasons.items())),
        },
        "requests": {
            "sent": tally.sent,
            "answered": tally.answered,
            "cache_hits": tally.cache_hits,
            "retried": tally.retried,
            "failed": tally.failed,
            "errors_by_kind": dict(sorted(tally.errors.items())),
        },
        "usage": {"this_process": asdict(tally.usage), "all_paid_responses": asdict(usage_all)},
        "cost_usd": {
            "this_process": round(tally.cost, 6),
            "all_paid_responses": round(session.cache.total_cost(), 6),
            "max_cost": job.max_cost,
            "priced": price is not None,
        },
        "responses_cached": responses,
        "batches": batches,
        "stats": summarise(records),
        "files": {RECORDS: {"sha256": digest, "rows": len(records)}, MANIFEST: None},
        "timing": {"seconds": round(seconds, 3)},
    }


def write(session: Session, *, status: str, seconds: float, batches: list[str], error: str = "") -> dict[str, Any]:
    """Build and atomically write manifest.json; returns it."""
    manifest = build_manifest(session, status=status, seconds=seconds, batches=batches, error=error)
    write_manifest(session.job.out, manifest)
    return manifest
