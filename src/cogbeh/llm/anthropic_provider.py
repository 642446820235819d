"""Anthropic adapter: the only module that imports `anthropic` (Messages and Message Batches)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic

from cogbeh.llm.base import BatchResult, BatchState, rate_info, sdk_error
from cogbeh.llm.types import Completion, ProviderError, RateInfo, Request, Usage, scrub

_RATE_HEADERS = {
    "limit_requests": "anthropic-ratelimit-requests-limit",
    "remaining_requests": "anthropic-ratelimit-requests-remaining",
    "reset_requests": "anthropic-ratelimit-requests-reset",
    "limit_tokens": "anthropic-ratelimit-tokens-limit",
    "remaining_tokens": "anthropic-ratelimit-tokens-remaining",
    "reset_tokens": "anthropic-ratelimit-tokens-reset",
}


def message_params(request: Request) -> dict[str, Any]:
    """The Messages API body; the system prompt is marked for prompt caching (it is shared by a condition)."""
    block: dict[str, Any] = {"type": "text", "text": request.system}
    if request.cache_system:
        block["cache_control"] = {"type": "ephemeral"}
    return {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": [block],
        "messages": [{"role": "user", "content": request.user}],
    }


def _sampling(request: Request) -> dict[str, Any]:
    # anthropic 2.x dropped `temperature` from its typed arguments; older models (the paper's Claude 3.5
    # Sonnet at 0.5) still take it, so it travels as a raw body field, and only when asked for.
    return {} if request.temperature is None else {"temperature": request.temperature}


def to_completion(message: Any, request_id: str | None) -> Completion:
    """Normalise a Message; anything missing or of the wrong shape is a malformed response."""
    try:
        text = "".join(block.text for block in message.content if getattr(block, "type", None) == "text")
        usage = message.usage
        return Completion(
            text=text,
            model=str(message.model),
            stop_reason=message.stop_reason,
            request_id=request_id,
            usage=Usage(
                input_tokens=int(usage.input_tokens),
                output_tokens=int(usage.output_tokens),
                cache_read_tokens=int(usage.cache_read_input_tokens or 0),
                cache_write_tokens=int(usage.cache_creation_input_tokens or 0),
            ),
        )
    except (AttributeError, TypeError, ValueError) as err:
        raise ProviderError("malformed", f"malformed Messages response: {type(err).__name__}") from None


class AnthropicProvider:
    """Messages API and Message Batches through the official SDK, with SDK retries off (we own them)."""

    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float = 120.0) -> None:
        self._secrets = (api_key,)
        # max_retries=0: the SDK would honour any retry-after without a cap and hide attempts from our cost
        # and rate accounting (DESIGN.md §5), so retries live in cogbeh.llm.retry.
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    def _error(self, err: Exception) -> ProviderError:
        return sdk_error(err, anthropic, secrets=self._secrets, rate_headers=_RATE_HEADERS)

    async def complete(self, request: Request) -> tuple[Completion, RateInfo]:
        """One Messages call; raises ProviderError."""
        try:
            raw = await self._client.messages.with_raw_response.create(
                **message_params(request), extra_body=_sampling(request) or None
            )
            message = await raw.parse()
        except (anthropic.AnthropicError, ValueError) as err:
            raise self._error(err) from None
        return to_completion(message, raw.request_id), rate_info(raw.headers, _RATE_HEADERS)

    async def batch_submit(self, items: list[tuple[str, Request]]) -> dict[str, Any]:
        """Create one Message Batch; the handle is just its id."""
        requests = [{"custom_id": cid, "params": {**message_params(req), **_sampling(req)}} for cid, req in items]
        try:
            batch = await self._client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        except (anthropic.AnthropicError, ValueError) as err:
            raise self._error(err) from None
        return {"id": batch.id}

    async def batch_state(self, handle: Mapping[str, Any]) -> BatchState:
        """processing_status plus request counts."""
        try:
            batch = await self._client.messages.batches.retrieve(handle["id"])
        except (anthropic.AnthropicError, ValueError) as err:
            raise self._error(err) from None
        return BatchState(batch.processing_status, batch.processing_status == "ended", batch.request_counts.to_dict())

    async def batch_results(self, handle: Mapping[str, Any]) -> dict[str, BatchResult]:
        """Results by custom id (the SDK fetches the batch's absolute results_url)."""
        found: dict[str, BatchResult] = {}
        try:
            async for line in await self._client.messages.batches.results(handle["id"]):
                found[line.custom_id] = self._result(line.result)
        except (anthropic.AnthropicError, ValueError) as err:
            raise self._error(err) from None
        return found

    def _result(self, result: Any) -> BatchResult:
        kind = getattr(result, "type", None)
        if kind == "succeeded":
            try:
                return to_completion(result.message, None)
            except ProviderError as err:
                return err
        if kind == "errored":
            detail = scrub(str(getattr(getattr(result.error, "error", None), "message", "")), self._secrets)[:200]
            return ProviderError("server", f"batch request errored: {detail}")
        return ProviderError("server", f"batch request {kind}")

    async def batch_cancel(self, handle: Mapping[str, Any]) -> BatchState:
        """Cancel; the batch moves to 'canceling' and then ends."""
        try:
            batch = await self._client.messages.batches.cancel(handle["id"])
        except (anthropic.AnthropicError, ValueError) as err:
            raise self._error(err) from None
        return BatchState(batch.processing_status, batch.processing_status == "ended", batch.request_counts.to_dict())

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
