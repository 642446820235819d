"""Provider registry and construction; keys come only from the environment."""

from __future__ import annotations

import importlib
import os

from cogbeh.llm.base import Provider
from cogbeh.llm.types import KEY_ENV, MissingKeyError

#: Provider name -> "module:class". Adding a provider is one adapter file plus one line here.
PROVIDERS: dict[str, str] = {
    "anthropic": "cogbeh.llm.anthropic_provider:AnthropicProvider",
    "openai": "cogbeh.llm.openai_provider:OpenAIProvider",
}


def api_key(provider: str) -> str:
    """The provider's key from its environment variable, or MissingKeyError naming the variable."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    value = os.environ.get(KEY_ENV[provider], "").strip()
    if not value:
        raise MissingKeyError(f"--provider {provider} needs an API key: set {KEY_ENV[provider]} in the environment")
    return value


def make_provider(provider: str, *, base_url: str | None = None, timeout: float = 120.0) -> Provider:
    """An adapter for `provider`, its SDK imported only now (the offline main job never pays for it)."""
    key = api_key(provider)
    module_name, class_name = PROVIDERS[provider].split(":")
    adapter = getattr(importlib.import_module(module_name), class_name)
    return adapter(api_key=key, base_url=base_url, timeout=timeout)  # type: ignore[no-any-return]
