"""The real SDK clients against the fake server: every fault kind is classified and retried (or not)."""

from __future__ import annotations

import asyncio

import pytest
from fake_server import Faults
from llm_helpers import CANARY, MODELS, base_url

from cogbeh.llm.providers import make_provider
from cogbeh.llm.retry import RetryPolicy, with_retries
from cogbeh.llm.types import Completion, ProviderError, Request

QUERY = "Using the numbers 3, 4, 25, 30, write an arithmetic expression that equals 32."
PROVIDERS = ["anthropic", "openai"]
KINDS = {"rate_limit": "rate_limit", "server_error": "server", "overloaded": "overloaded", "timeout": "timeout",
         "truncated": "connection", "malformed": "malformed"}


def _ask(server, provider: str, *, policy: RetryPolicy | None = None, timeout: float = 0.5):
    async def go():
        adapter = make_provider(provider, base_url=base_url(server, provider), timeout=timeout)
        request = Request("system", QUERY, MODELS[provider], max_tokens=64)
        try:
            if policy is None:
                return await adapter.complete(request)
            return await with_retries(lambda: adapter.complete(request), policy=policy)
        finally:
            await adapter.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_clean_answer_is_normalised(server_factory, provider):
    server = server_factory()
    completion, rate = _ask(server, provider)
    assert isinstance(completion, Completion)
    assert "<answer>" in completion.text and completion.request_id
    assert completion.usage.output_tokens > 0 and completion.usage.input_tokens > 0
    assert server.answered == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", sorted(KINDS))
def test_each_fault_is_classified_then_retried(server_factory, provider, fault):
    # Only the timeout case relies on the client giving up; the others get room for a slow, loaded machine.
    hang, timeout = (0.4, 0.2) if fault == "timeout" else (0.4, 5.0)
    server = server_factory(faults=Faults(script=[fault], hang=hang))
    with pytest.raises(ProviderError) as caught:
        _ask(server, provider, timeout=timeout)
    assert caught.value.kind == KINDS[fault] and caught.value.retryable
    if fault == "rate_limit":
        assert caught.value.retry_after == pytest.approx(0.05)
    assert CANARY not in str(caught.value)
    server.faults.script = [fault, fault]
    completion, _ = _ask(server, provider, policy=RetryPolicy(attempts=3, base=0.01), timeout=timeout)
    assert completion.text.startswith("<think>")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_auth_error_is_not_retried_and_never_echoes_the_key(server_factory, provider, monkeypatch):
    server = server_factory(require_key="the-right-key")
    with pytest.raises(ProviderError) as caught:
        _ask(server, provider, policy=RetryPolicy(attempts=5, base=0.01))
    assert caught.value.kind == "auth" and not caught.value.retryable
    assert server.requests == 1
    assert "CANARY" not in str(caught.value) and "[redacted]" in str(caught.value)


def test_retry_after_is_capped(server_factory):
    server = server_factory(faults=Faults(script=["rate_limit"], retry_after=30.0))
    import time

    began = time.perf_counter()
    _ask(server, "anthropic", policy=RetryPolicy(attempts=2, retry_after_cap=0.1))
    assert time.perf_counter() - began < 5


def test_missing_key_is_reported_before_any_connection(server_factory, monkeypatch):
    from cogbeh.llm.types import MissingKeyError

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    server = server_factory()
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        make_provider("anthropic", base_url=server.url)
    assert server.requests == 0
