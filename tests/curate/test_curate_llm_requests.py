"""The curate request engine: cost cap, resume after a fault, provider batches (incl. a killed process's batch),
other ranks' cache files, and no secret in any error or file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_server import Faults
from llm_helpers import CANARY, MODELS, base_url

from cogbeh.curate.judge import LLMLabeler
from cogbeh.curate.labels import DocumentLabels
from cogbeh.curate.requests import CostCapReached, RequestEngine, request_key
from cogbeh.llm.types import ProviderError, Request

DOCS = [f"Problem {i}: compute {i} + {i}. I first set a subgoal, then check: {2 * i}." for i in range(12)]


def _labeler(server, tmp_path, provider="anthropic", **options):
    options = {"timeout": 2.0, "retries": 1, "prompts": "combined", **options}
    return LLMLabeler(provider, MODELS[provider], base_url=base_url(server, provider), cache_dir=tmp_path / "cache",
                      **options)


def _cache_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("responses-*.jsonl"))
            for line in path.read_text().splitlines()]


def _no_secret(folder: Path) -> None:
    for path in folder.iterdir():
        text = path.read_text()
        assert CANARY not in text and CANARY.replace("ant", "oai") not in text, path


def test_cost_cap_stops_launching_and_a_rerun_pays_only_the_rest(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    cap = 0.02  # a combined request's worst case is ~$0.016 (claude-3-5-sonnet, 1024 output tokens)
    with pytest.raises(CostCapReached) as stopped:
        _labeler(server, tmp_path, max_cost=cap, concurrency=2).label(DOCS)
    paid = _cache_lines(tmp_path / "cache")
    assert 0 < len(paid) < len(DOCS) and server.answered == len(paid)
    assert sum(line["cost_usd"] for line in paid) <= cap and stopped.value.unsent > 0
    labels = _labeler(server, tmp_path).label(DOCS)
    assert all(isinstance(label, DocumentLabels) for label in labels)
    assert server.answered == len(DOCS) and server.duplicates() == 0


def test_fault_after_retries_raises_and_the_rerun_resumes_without_repaying(server_factory, fake_judge, tmp_path):
    # Two answers, then a 500 that outlives its one retry: the call stops (as a killed run would) with the cause.
    server = server_factory(answer=fake_judge, faults=Faults(script=["ok", "ok", "server_error", "server_error"]))
    with pytest.raises(ProviderError) as stopped:
        _labeler(server, tmp_path, concurrency=1).label(DOCS)
    assert stopped.value.kind == "server" and server.answered == 2
    assert len(_cache_lines(tmp_path / "cache")) == 2  # what was paid is on disk
    labels = _labeler(server, tmp_path, concurrency=1).label(DOCS)
    assert all(isinstance(label, DocumentLabels) for label in labels)
    assert server.answered == len(DOCS) and server.duplicates() == 0


def test_wrong_key_raises_without_the_key_anywhere(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge, require_key="sk-the-right-one-1234567")  # echoes what it got
    with pytest.raises(ProviderError) as stopped:
        _labeler(server, tmp_path, provider="openai").label(DOCS[:2])
    assert stopped.value.kind == "auth"
    assert CANARY.replace("ant", "oai") not in str(stopped.value) and "CANARY" not in str(stopped.value)
    _no_secret(tmp_path / "cache")


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_batch_mode_collects_into_the_cache(server_factory, fake_judge, tmp_path, provider):
    server = server_factory(answer=fake_judge, batch_polls=2)
    labeler = _labeler(server, tmp_path, provider=provider, batch=True, poll_interval=0.01, prompts="paper")
    labels = labeler.label(DOCS[:4])
    assert all(isinstance(label, DocumentLabels) for label in labels)
    assert len(server.batches) == 1 and server.answered == 20
    lines = _cache_lines(tmp_path / "cache")
    assert len(lines) == 20 and {line["mode"] for line in lines} == {"batch"}
    ledger = (tmp_path / "cache" / "batches-00000.jsonl").read_text().splitlines()
    assert [json.loads(line)["event"] for line in ledger] == ["created", "collected"]
    again = _labeler(server, tmp_path, provider=provider, batch=True, prompts="paper")
    assert again.label(DOCS[:4]) == labels
    assert len(server.batches) == 1  # all cached: nothing submitted again
    _no_secret(tmp_path / "cache")


def test_batch_errors_are_resubmitted(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge, faults=Faults(batch_errored=0.3, batch_expired=0.2), seed=3)
    labels = _labeler(server, tmp_path, provider="openai", batch=True, poll_interval=0.01).label(DOCS)
    assert len(server.batches) >= 2 and server.duplicates() == 0
    assert all(isinstance(label, DocumentLabels) for label in labels)


_CHILD = """
import sys
from cogbeh.curate.judge import LLMLabeler
provider, model, url, cache = sys.argv[1:5]
docs = [f"Problem {i}: compute {i} + {i}. I first set a subgoal, then check: {2 * i}." for i in range(12)]
LLMLabeler(provider, model, base_url=url, cache_dir=cache, batch=True, poll_interval=0.05,
           prompts="combined").label(docs[:6])
"""


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_killed_process_batch_is_picked_up_not_resubmitted(server_factory, fake_judge, tmp_path, provider):
    server = server_factory(answer=fake_judge, batch_polls=10**9)  # the batch never ends while the child lives
    cache = tmp_path / "cache"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, provider, MODELS[provider], base_url(server, provider),
                              str(cache)], env=os.environ.copy())
    ledger = cache / "batches-00000.jsonl"
    try:
        deadline = time.monotonic() + 60
        while not (ledger.exists() and ledger.read_text().strip()) and child.poll() is None:
            assert time.monotonic() < deadline, "the child never submitted its batch"
            time.sleep(0.05)
        assert child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert len(server.batches) == 1 and server.answered == 0
    batch = next(iter(server.batches.values()))
    server.batch_polls = batch["polls"] + 1  # it ends at the next poll
    labeler = _labeler(server, tmp_path, provider=provider, batch=True, poll_interval=0.01)
    labels = labeler.label(DOCS[:6])
    assert all(isinstance(label, DocumentLabels) for label in labels)
    assert len(server.batches) == 1 and server.answered == 6 and labeler.stats()["sent"] == 0
    _no_secret(cache)


def test_batch_cost_cap_submits_only_what_fits(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    with pytest.raises(CostCapReached):
        _labeler(server, tmp_path, batch=True, poll_interval=0.01, max_cost=0.02).label(DOCS)
    assert 0 < server.answered < len(DOCS)
    assert sum(line["cost_usd"] for line in _cache_lines(tmp_path / "cache")) <= 0.02


def test_other_ranks_files_are_read_but_never_changed(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    _labeler(server, tmp_path, rank=1).label(DOCS[:2])
    other = tmp_path / "cache" / "responses-00001.jsonl"
    with other.open("a") as handle:
        handle.write('{"key": "torn')  # another task is writing its next line right now
    before = other.read_bytes()
    answered = server.answered
    _labeler(server, tmp_path, rank=0).label(DOCS[:2])
    assert other.read_bytes() == before and server.answered == answered


def test_engine_dedupes_and_estimates_without_sending(server_factory, tmp_path):
    server = server_factory(answer=lambda system, user: "an answer")
    engine = RequestEngine("openai", MODELS["openai"], base_url=base_url(server, "openai"), timeout=2.0)
    request = Request("system", "user <count>", MODELS["openai"], 64, 0.0)
    key = request_key("openai", request, kind="test")
    first, second = engine.run([(key, request), (key, request)])
    assert first == second and server.answered == 1  # asked twice in one call, sent once
    estimate = engine.estimate([request] * 3)
    assert estimate["requests"] == 3 and estimate["max_output_tokens"] == 192 and estimate["worst_case_usd"] > 0
    assert server.answered == 1


def test_engine_options_are_checked():
    unsaved = RequestEngine("anthropic", "claude-3-5-haiku", batch=True, concurrency=None)  # a dry run's engine
    assert unsaved.estimate([Request("s", "u", "claude-3-5-haiku", 10)])["batch"] and unsaved.concurrency == 8
    with pytest.raises(ValueError, match="cache_dir"):
        unsaved.run([("k", Request("s", "u", "claude-3-5-haiku", 10))])
    with pytest.raises(ValueError, match="price"):
        RequestEngine("openai", "my-local-model", max_cost=1.0)
    with pytest.raises(ValueError, match="provider"):
        RequestEngine("vllm", "m")
