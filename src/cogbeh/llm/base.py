"""The provider interface, batch handles and helpers every provider adapter shares."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cogbeh.llm.types import Completion, ProviderError, RateInfo, Request, scrub


@dataclass(frozen=True)
class BatchState:
    """Where a provider batch stands; `ended` once no request in it will change any more."""

    status: str
    ended: bool
    counts: dict[str, int] = field(default_factory=dict)


#: A batch result per custom id: the completion, or why there is none ("errored: ...", "expired", ...).
BatchResult = Completion | ProviderError


class Provider(Protocol):
    """What the runner, the batch driver and the judge need from a provider."""

    name: str

    async def complete(self, request: Request) -> tuple[Completion, RateInfo]:
        """One request, no retries (the caller owns them); raises ProviderError."""
        ...

    async def batch_submit(self, items: list[tuple[str, Request]]) -> dict[str, Any]:
        """Create a batch of (custom_id, request); returns the handle to persist (at least {'id': ...})."""
        ...

    async def batch_state(self, handle: Mapping[str, Any]) -> BatchState:
        """Current status of a batch."""
        ...

    async def batch_results(self, handle: Mapping[str, Any]) -> dict[str, BatchResult]:
        """Results of an ended batch by custom id (order is not guaranteed by either API)."""
        ...

    async def batch_cancel(self, handle: Mapping[str, Any]) -> BatchState:
        """Ask the provider to stop a batch; what already finished stays collectable."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client."""
        ...


def classify_status(status: int) -> str:
    """Our error kind for an HTTP status."""
    if status == 429:
        return "rate_limit"
    if status == 529:
        return "overloaded"
    if status in (408, 409) or status >= 500:
        return "server"
    if status in (401, 403):
        return "auth"
    return "request"


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a response asks us to wait: retry-after-ms, retry-after as seconds, or as an HTTP date."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None) -> float | None:
    """Seconds until a limit resets: OpenAI's '6m0s' / '20ms' or Anthropic's RFC 3339 timestamp."""
    if not value:
        return None
    parts = _DURATION.findall(value)
    if parts and "".join(a + b for a, b in parts) == value.strip():
        return sum(float(number) * _UNIT[unit] for number, unit in parts)
    try:
        from datetime import datetime

        return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - time.time())
    except ValueError:
        return None


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header, or None when absent or not a number."""
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def rate_info(headers: Mapping[str, str], names: Mapping[str, str]) -> RateInfo:
    """RateInfo from headers; `names` maps RateInfo fields (and 'reset') to this provider's header names."""
    resets = [parse_reset(headers.get(names[key])) for key in ("reset_requests", "reset_tokens") if key in names]
    known = [r for r in resets if r is not None]
    return RateInfo(
        limit_requests=header_int(headers, names["limit_requests"]),
        remaining_requests=header_int(headers, names["remaining_requests"]),
        limit_tokens=header_int(headers, names["limit_tokens"]),
        remaining_tokens=header_int(headers, names["remaining_tokens"]),
        reset_seconds=max(known) if known else None,
    )


def sdk_error(err: Exception, sdk: Any, *, secrets: Sequence[str], rate_headers: Mapping[str, str]) -> ProviderError:
    """Map an exception of either official SDK (passed in as `sdk`, the imported module) to a ProviderError.

    Both SDKs name their errors alike (APITimeoutError, APIConnectionError, APIStatusError); the message is
    scrubbed of secrets and cut short before it can reach a log.
    """
    message = scrub(str(err), secrets)[:300]
    if isinstance(err, sdk.APITimeoutError):
        return ProviderError("timeout", "request timed out")
    if isinstance(err, sdk.APIConnectionError):
        return ProviderError("connection", connection_message(err, secrets))
    if isinstance(err, sdk.APIStatusError):
        headers = err.response.headers
        return ProviderError(
            classify_status(err.status_code),  # type: ignore[arg-type]
            f"HTTP {err.status_code}: {message}",
            status=err.status_code,
            retry_after=retry_after_seconds(headers),
            rate=rate_info(headers, rate_headers),
        )
    return ProviderError("malformed", f"{type(err).__name__}: {message}")


def connection_message(err: Exception, secrets: Sequence[str] = ()) -> str:
    """'cannot connect to http://host:port: connection refused': the endpoint and the root cause of a failed
    connection (the SDKs only say 'Connection error.'), without path, query or credentials."""
    import os
    import urllib.parse

    request = getattr(err, "request", None)
    url = urllib.parse.urlsplit(str(request.url)) if request is not None else None
    origin = f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "") if url and url.hostname else ""
    chain = _chain(err)
    cause = next((e for e in chain if isinstance(e, OSError) and e.errno is not None), chain[-1])
    if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
        reason = os.strerror(cause.errno)  # "Connection refused", not asyncio's "Connect call failed (...)"
    elif isinstance(cause, OSError) and cause.strerror:
        reason = cause.strerror  # DNS: "Name or service not known"
    else:
        reason = str(cause) or type(cause).__name__
    reason = scrub(" ".join(reason.split()), tuple(secrets))[:200]
    reason = reason[:1].lower() + reason[1:]
    # httpx names a failure to open the connection ConnectError; anything else broke an open one.
    connecting = any(type(e).__name__ in ("ConnectError", "ConnectTimeout") for e in chain)
    where = origin or "the API"
    return f"cannot connect to {where}: {reason}" if connecting else f"connection to {where} failed: {reason}"


def _chain(err: BaseException) -> list[BaseException]:
    """`err` and every exception behind it (causes, contexts, exception-group members), outermost first."""
    seen: set[int] = set()
    found: list[BaseException] = []
    stack: list[BaseException | None] = [err]
    while stack:
        current = stack.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        stack += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return found
