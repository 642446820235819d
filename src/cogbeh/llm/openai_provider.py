"""OpenAI adapter: the only module that imports `openai` (Chat Completions, Files and Batch)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import openai

from cogbeh.llm.base import BatchResult, BatchState, rate_info, sdk_error
from cogbeh.llm.types import Completion, ProviderError, RateInfo, Request, Usage, scrub

_RATE_HEADERS = {
    "limit_requests": "x-ratelimit-limit-requests",
    "remaining_requests": "x-ratelimit-remaining-requests",
    "reset_requests": "x-ratelimit-reset-requests",
    "limit_tokens": "x-ratelimit-limit-tokens",
    "remaining_tokens": "x-ratelimit-remaining-tokens",
    "reset_tokens": "x-ratelimit-reset-tokens",
}
_ENDED = {"completed", "failed", "expired", "cancelled"}
ENDPOINT = "/v1/chat/completions"


def chat_params(request: Request, *, official: bool) -> dict[str, Any]:
    """The Chat Completions body. OpenAI's own API wants max_completion_tokens; compatible servers
    (vLLM, Ollama, SGLang) all understand the older max_tokens."""
    limit = "max_completion_tokens" if official else "max_tokens"
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": request.user}],
        limit: request.max_tokens,
    }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def to_completion(body: Mapping[str, Any], request_id: str | None) -> Completion:
    """Normalise a chat.completion body (a dict); the wrong shape is a malformed response."""
    try:
        choice = body["choices"][0]
        usage = body.get("usage") or {}
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return Completion(
            text=str(choice["message"].get("content") or ""),
            model=str(body.get("model", "")),
            stop_reason=choice.get("finish_reason"),
            request_id=request_id,
            # prompt_tokens includes the cached ones; we keep plain input and cache reads apart.
            usage=Usage(
                input_tokens=int(usage.get("prompt_tokens", 0)) - cached,
                output_tokens=int(usage.get("completion_tokens", 0)),
                cache_read_tokens=cached,
            ),
        )
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        raise ProviderError("malformed", f"malformed chat completion: {type(err).__name__}") from None


class OpenAIProvider:
    """Chat Completions and the Batch API through the official SDK, with SDK retries off (we own them)."""

    name = "openai"

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout: float = 120.0) -> None:
        self._secrets = (api_key,)
        # max_retries=0: the SDK gives up silently on retry-after > 120 s and hides attempts from our accounting.
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self._official = "api.openai.com" in str(self._client.base_url)

    def _error(self, err: Exception) -> ProviderError:
        return sdk_error(err, openai, secrets=self._secrets, rate_headers=_RATE_HEADERS)

    async def complete(self, request: Request) -> tuple[Completion, RateInfo]:
        """One chat completion; raises ProviderError."""
        try:
            raw = await self._client.chat.completions.with_raw_response.create(
                **chat_params(request, official=self._official)
            )
            body = json.loads(raw.content)  # with_raw_response is a legacy (already read) response here
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err) from None
        if not isinstance(body, dict):
            raise ProviderError("malformed", "malformed chat completion: not an object")
        return to_completion(body, raw.request_id), rate_info(raw.headers, _RATE_HEADERS)

    async def batch_submit(self, items: list[tuple[str, Request]]) -> dict[str, Any]:
        """Upload the requests as JSONL, create the batch; the handle keeps the batch and input file ids."""
        lines = [
            json.dumps({"custom_id": cid, "method": "POST", "url": ENDPOINT,
                        "body": chat_params(req, official=self._official)}, ensure_ascii=False)
            for cid, req in items
        ]
        data = ("\n".join(lines) + "\n").encode()
        try:
            uploaded = await self._client.files.create(file=("batch.jsonl", data, "application/jsonl"), purpose="batch")
            batch = await self._client.batches.create(
                input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h"
            )
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err) from None
        return {"id": batch.id, "input_file_id": uploaded.id}

    async def batch_state(self, handle: Mapping[str, Any]) -> BatchState:
        """validating / in_progress / finalizing / completed / failed / expired / cancelling / cancelled."""
        try:
            batch = await self._client.batches.retrieve(handle["id"])
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err) from None
        counts = batch.request_counts.to_dict() if batch.request_counts else {}
        return BatchState(batch.status, batch.status in _ENDED, counts)

    async def batch_results(self, handle: Mapping[str, Any]) -> dict[str, BatchResult]:
        """Output and error files matched by custom_id; ids in neither file are simply absent."""
        try:
            batch = await self._client.batches.retrieve(handle["id"])
            found: dict[str, BatchResult] = {}
            for file_id in (batch.error_file_id, batch.output_file_id):  # output last: a success wins
                if file_id:
                    content = await self._client.files.content(file_id)
                    found.update(self._parse_lines(content.text))
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err) from None
        return found

    def _parse_lines(self, text: str) -> dict[str, BatchResult]:
        found: dict[str, BatchResult] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            response, custom_id = row.get("response") or {}, str(row.get("custom_id"))
            if row.get("error") or response.get("status_code") != 200:
                detail = scrub(json.dumps(row.get("error") or response.get("body"))[:200], self._secrets)
                found[custom_id] = ProviderError("server", f"batch request errored: {detail}")
                continue
            try:
                found[custom_id] = to_completion(response.get("body") or {}, response.get("request_id"))
            except ProviderError as err:
                found[custom_id] = err
        return found

    async def batch_cancel(self, handle: Mapping[str, Any]) -> BatchState:
        """Cancel; the batch moves to 'cancelling' and then 'cancelled'."""
        try:
            batch = await self._client.batches.cancel(handle["id"])
        except (openai.OpenAIError, ValueError) as err:
            raise self._error(err) from None
        counts = batch.request_counts.to_dict() if batch.request_counts else {}
        return BatchState(batch.status, batch.status in _ENDED, counts)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
