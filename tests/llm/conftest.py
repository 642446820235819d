"""Fixtures for the LLM engine tests: a fake API server and canary keys."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fake_server, fake_routes, llm_helpers are sibling modules

from fake_server import FakeServer  # noqa: E402
from llm_helpers import CANARY  # noqa: E402


@pytest.fixture(autouse=True)
def canary_keys(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with canary keys (and without any real endpoint in the environment)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY.replace("ant", "oai"))
    for name in ("ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return CANARY


@pytest.fixture
def server_factory() -> Iterator[Any]:
    """Start fake servers on demand; all are stopped at the end of the test."""
    started: list[FakeServer] = []

    def start(**options: Any) -> FakeServer:
        server = FakeServer(**options).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
