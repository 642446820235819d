"""Frontier-LLM traces: providers, limits, retries, crash-safe cache, batches, cost and the LLM judge.

Importing this package does not import any SDK; providers load their SDK when first constructed.
Public entry points: `LLMJob`, `run_llm`, `dry_run`, `check_key`, `batch_status`, `batch_cancel`,
`batch_collect`, `make_judge`.
"""

from __future__ import annotations

from cogbeh.llm.job import LLMJob, load_job
from cogbeh.llm.types import Completion, MissingKeyError, ProviderError, Usage


def check_key(provider: str) -> None:
    """Raise MissingKeyError (naming the variable) when the provider's API key is not set."""
    from cogbeh.llm.providers import api_key

    api_key(provider)


def run_llm(job: LLMJob, **options: object) -> object:
    """See `cogbeh.llm.runner.run_llm` (imported lazily)."""
    from cogbeh.llm.runner import run_llm as run

    return run(job, **options)  # type: ignore[arg-type]


def dry_run(job: LLMJob, *, show: int = 3) -> str:
    """See `cogbeh.llm.dryrun.dry_run`."""
    from cogbeh.llm.dryrun import dry_run as render

    return render(job, show=show)


__all__ = ["Completion", "LLMJob", "MissingKeyError", "ProviderError", "Usage", "check_key", "dry_run",
           "load_job", "run_llm"]
