"""The paper's LLM behavior judge: one prompt per behavior, each answered with a count inside <count> tags."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify.base import BehaviorCounts, ClassifyError
from cogbeh.llm.cache import ResponseCache, cache_key
from cogbeh.llm.limiter import Limiter
from cogbeh.llm.providers import PROVIDERS, api_key, make_provider
from cogbeh.llm.retry import RetryPolicy, with_retries
from cogbeh.llm.types import Completion, ProviderError, Request
from cogbeh.templating import directory_hash, render

SYSTEM_TEMPLATE = "judge/system.jinja"
_COUNT = re.compile(r"<count>\s*(\d{1,4})\s*</count>", re.IGNORECASE)


def parse_count(answer: str) -> int | None:
    """The judge's count: the last <count>N</count> in its answer (it may quote the tags before concluding)."""
    found = _COUNT.findall(answer)
    return int(found[-1]) if found else None


def judge_prompts(text: str, *, root: str | None = None) -> dict[str, tuple[str, str]]:
    """(system, user) per behavior for one trace; the trace is a variable, never template source."""
    system = render(SYSTEM_TEMPLATE, root=root).strip()
    return {b: (system, render(f"judge/{b}.jinja", root=root, trace=text).strip()) for b in BEHAVIORS}


class LLMJudge:
    """A BehaviorClassifier backed by a provider; an unparseable or failed answer is a ClassifyError."""

    def __init__(self, provider: str, model: str, *, base_url: str | None = None, concurrency: int = 8,
                 timeout: float = 60.0, max_tokens: int = 512, template_dir: str | None = None,
                 cache: Path | None = None, retries: int = 5, temperature: float | None = None) -> None:
        api_key(provider)  # fail before any work when the key is missing
        self.name = f"{provider}:{model}"
        self.provider, self.model, self.base_url = provider, model, base_url
        self.concurrency, self.timeout, self.max_tokens = concurrency, timeout, max_tokens
        self.template_dir = template_dir
        self.template_hash = directory_hash("judge", root=template_dir)
        self.cache_path = cache
        self.policy = RetryPolicy(attempts=retries + 1)
        self.temperature = temperature

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        """Counts per text, in input order."""
        return asyncio.run(self._count_all(list(texts)))

    async def _count_all(self, texts: list[Any]) -> list[BehaviorCounts | ClassifyError]:
        provider = make_provider(self.provider, base_url=self.base_url, timeout=self.timeout)
        cache = ResponseCache(self.cache_path) if self.cache_path else None
        limiter = Limiter(concurrency=self.concurrency)
        try:
            return list(await asyncio.gather(*(self._one(provider, limiter, cache, i, t) for i, t in enumerate(texts))))
        finally:
            await provider.aclose()
            if cache is not None:
                cache.close()

    async def _one(self, provider: Any, limiter: Limiter, cache: ResponseCache | None, position: int,
                   text: Any) -> BehaviorCounts | ClassifyError:
        if not isinstance(text, str):
            return ClassifyError(f"expected a string, got {type(text).__name__}")
        prompts = judge_prompts(text, root=self.template_dir)
        answers = await asyncio.gather(
            *(self._ask(provider, limiter, cache, behavior, *prompts[behavior]) for behavior in BEHAVIORS)
        )
        counts: BehaviorCounts = {}
        for behavior, answer in zip(BEHAVIORS, answers, strict=False):
            if isinstance(answer, ProviderError):
                return ClassifyError(f"judge request for {behavior} failed: {answer}")
            value = parse_count(answer.text)
            if value is None:
                return ClassifyError(f"judge answer for {behavior} has no <count>N</count>: {answer.text[:80]!r}")
            counts[behavior] = value
        return counts

    async def _ask(self, provider: Any, limiter: Limiter, cache: ResponseCache | None, behavior: str,
                   system: str, user: str) -> Completion | ProviderError:
        request = Request(system, user, self.model, self.max_tokens, temperature=self.temperature)
        key = cache_key(provider=self.provider, model=self.model, system=system, user=user,
                        params=request.params(), template_hash=self.template_hash, problem_id="judge:" + behavior,
                        sample_index=0)
        if cache is not None and (hit := cache.get(key)) is not None:
            return hit

        async def attempt() -> Completion:
            async with limiter.slot():
                completion, _ = await provider.complete(request)
                return completion

        try:
            completion = await with_retries(attempt, policy=self.policy)
        except ProviderError as err:
            return err
        if cache is not None:
            cache.put(key, completion, mode="judge")
        return completion


def make_judge(spec: str, **options: Any) -> LLMJudge:
    """'anthropic:MODEL' or 'openai:MODEL' -> an LLMJudge; ValueError names the accepted form."""
    provider, _, model = spec.partition(":")
    if provider not in PROVIDERS or not model:
        raise ValueError(f"--judge takes PROVIDER:MODEL with PROVIDER one of {', '.join(PROVIDERS)}, got {spec!r}")
    return LLMJudge(provider, model, **options)


def agreement(first: Sequence[BehaviorCounts | ClassifyError],
              second: Sequence[BehaviorCounts | ClassifyError]) -> dict[str, dict[str, float]]:
    """Per behavior: share of texts where both agree on presence, mean absolute count difference, texts compared."""
    pairs = [(a, b) for a, b in zip(first, second, strict=False) if isinstance(a, dict) and isinstance(b, dict)]
    report: dict[str, dict[str, float]] = {}
    for behavior in BEHAVIORS:
        same = sum((a[behavior] > 0) == (b[behavior] > 0) for a, b in pairs)
        diff = sum(abs(a[behavior] - b[behavior]) for a, b in pairs)
        n = len(pairs)
        report[behavior] = {"presence_agreement": same / n if n else 0.0,
                            "mean_abs_diff": diff / n if n else 0.0, "compared": float(n)}
    return report
