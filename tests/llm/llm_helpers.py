"""Helpers shared by the LLM tests and the throughput benchmark."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from fake_server import FakeServer, default_answer

from cogbeh.llm.job import LLMJob

CANARY = "sk-ant-CANARY-7f3c9e1d2b4a6f8e0c1d3b5a7e9f"
MODELS = {"anthropic": "claude-3-5-sonnet-20241022", "openai": "gpt-4o-mini"}


def sometimes_malformed(share: float) -> Any:
    """An answer function whose answer lacks the tags for a fixed `share` of prompts (decided by hash)."""

    def answer(system: str, user: str) -> str:
        if int(hashlib.sha256(user.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share:
            return "The answer is probably 42, but I did not show my work."
        return default_answer(system, user)

    return answer


def base_url(server: FakeServer, provider: str) -> str:
    """The SDK base URL for `provider` (OpenAI's includes /v1)."""
    return server.url + ("/v1" if provider == "openai" else "")


def make_job(server: FakeServer, out: Path, *, provider: str = "anthropic", n: int = 20, **options: Any) -> LLMJob:
    """A small job against the fake server with fast timeouts and retries."""
    job = LLMJob(behaviors=frozenset(), n=n, out=out, provider=provider, model=MODELS[provider],
                 base_url=base_url(server, provider), timeout=0.5, concurrency=8, retry_after_cap=0.2,
                 backoff=0.01, poll_interval=0.01)
    return replace(job, **options)
