"""Provider-neutral request, completion, usage and error types shared by every LLM module."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ProviderName = Literal["anthropic", "openai"]

#: Environment variable holding each provider's key; the only place keys come from.
KEY_ENV: dict[str, str] = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
#: Environment variable each SDK reads for a custom endpoint (vLLM, Ollama, a test server).
BASE_URL_ENV: dict[str, str] = {"anthropic": "ANTHROPIC_BASE_URL", "openai": "OPENAI_BASE_URL"}


@dataclass(frozen=True)
class Usage:
    """Tokens of one paid response; cache reads and writes are priced apart from plain input."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(frozen=True)
class Request:
    """One chat request: a system prompt, one user turn, and sampling parameters."""

    system: str
    user: str
    model: str
    max_tokens: int = 1024
    temperature: float | None = None  # None: the provider's default (newer Anthropic models take no temperature)
    cache_system: bool = True  # Anthropic: mark the system prompt for prompt caching

    def params(self) -> dict[str, Any]:
        """The sampling parameters that shape the answer (part of the cache key)."""
        return {"max_tokens": self.max_tokens, "temperature": self.temperature}


@dataclass(frozen=True)
class Completion:
    """One model answer, normalised across providers."""

    text: str
    model: str
    stop_reason: str | None
    request_id: str | None
    usage: Usage = field(default_factory=Usage)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the response cache."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        """Inverse of `to_dict` (unknown keys are an error: the cache is our own format)."""
        return cls(**{**data, "usage": Usage(**data.get("usage", {}))})


@dataclass(frozen=True)
class RateInfo:
    """What a response's rate-limit headers said (None where a header was absent)."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_seconds: float | None = None


ErrorKind = Literal["rate_limit", "overloaded", "server", "timeout", "connection", "malformed", "auth", "request"]
#: Kinds worth another try; auth and bad-request errors never get better by waiting.
RETRYABLE: frozenset[str] = frozenset({"rate_limit", "overloaded", "server", "timeout", "connection", "malformed"})


class ProviderError(Exception):
    """A failed call, with its message already scrubbed of secrets."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        rate: RateInfo | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.rate = rate

    @property
    def retryable(self) -> bool:
        """Whether waiting and trying again can help."""
        return self.kind in RETRYABLE


class MissingKeyError(RuntimeError):
    """The provider's API key is not in the environment."""


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret (and any bearer token) replaced, so errors can be shown and logged."""
    import re

    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    # A server may echo a different credential than ours; never print anything that looks like one.
    return re.sub(r"(?i)(bearer\s+|x-api-key[\"':\s]+|sk-)[A-Za-z0-9_\-.]{6,}", r"\1[redacted]", text)
