"""The online generation loop end to end against the fake server, with the real SDKs."""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fake_server import Faults
from llm_helpers import CANARY, make_job, sometimes_malformed

from cogbeh.llm.dryrun import dry_run
from cogbeh.llm.runner import RunStopped, run_llm
from cogbeh.llm.types import MissingKeyError
from cogbeh.records import read_records

FAULTY = Faults(rate_limit=0.1, server_error=0.05, overloaded=0.05, timeout=0.03, truncated=0.04, malformed=0.03,
                retry_after=0.02, hang=0.4)  # 30% of requests fail


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_faults_and_malformed_answers_still_give_exactly_n(server_factory, tmp_path, provider):
    server = server_factory(answer=sometimes_malformed(0.1), faults=Faults(**vars(FAULTY)), seed=3)
    job = make_job(server, tmp_path / "run", provider=provider, n=60, timeout=0.2, concurrency=16)
    manifest = run_llm(job).manifest
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    rejected = _lines(tmp_path / "run" / "rejected.jsonl")
    assert len(records) == 60 and len({r.id for r in records}) == 60
    assert all(r.provider == provider and r.model == job.model and r.usage and r.template_hash for r in records)
    assert [r.index for r in records] + [r["index"] for r in rejected] != []
    assert all(row["reason"] for row in rejected)  # every rejection explained
    assert sum(manifest["counts"]["rejected_by_reason"].values()) == len(rejected)
    assert manifest["status"] == "complete" and manifest["requests"]["retried"] > 0
    assert manifest["cost_usd"]["this_process"] > 0
    # committed in index order: records and rejections together cover 0..k without a gap
    indices = sorted([r.index for r in records] + [row["index"] for row in rejected])
    assert indices == list(range(len(indices)))


def test_rerun_is_served_from_the_cache(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=15)
    first = run_llm(job).manifest
    answered = server.answered
    second = run_llm(replace(job, overwrite=True)).manifest
    assert server.answered == answered and server.requests == first["requests"]["sent"]
    assert second["requests"]["cache_hits"] == 15 and second["requests"]["sent"] == 0
    assert second["cost_usd"]["this_process"] == 0 and second["cost_usd"]["all_paid_responses"] > 0
    assert (tmp_path / "run" / "records.jsonl").read_bytes() == _records_bytes(tmp_path / "run")


def _records_bytes(folder: Path) -> bytes:
    return (folder / "records.jsonl").read_bytes()


def test_records_are_deterministic_across_concurrency(server_factory, tmp_path):
    server = server_factory(answer=sometimes_malformed(0.3))
    run_llm(make_job(server, tmp_path / "a", n=12, concurrency=1))
    run_llm(make_job(server, tmp_path / "b", n=12, concurrency=12))
    # Everything but token usage (which prompt-cache hits change) is identical: the first 12 accepted by index.
    a, b = (_lines(tmp_path / name / "records.jsonl") for name in "ab")
    assert [dict(r, usage=None) for r in a] == [dict(r, usage=None) for r in b]


def test_max_cost_stops_cleanly_and_resume_finishes(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=40, max_cost=0.02, concurrency=4)
    with pytest.raises(RunStopped) as stopped:
        run_llm(job)
    assert stopped.value.status == "max_cost"
    assert stopped.value.manifest["cost_usd"]["all_paid_responses"] <= 0.02
    done = len(list(read_records(tmp_path / "run" / "records.jsonl")))
    assert 0 < done < 40
    run_llm(replace(job, max_cost=None, resume=True))
    assert len(list(read_records(tmp_path / "run" / "records.jsonl"))) == 40


def test_attempt_budget_bounds_a_hopeless_run(server_factory, tmp_path):
    server = server_factory(answer=lambda system, user: "no tags at all")
    with pytest.raises(RunStopped) as stopped:
        run_llm(make_job(server, tmp_path / "run", n=5, max_attempts=9))
    assert stopped.value.status == "max_attempts"
    assert server.answered == 9
    assert stopped.value.manifest["counts"]["rejected_by_reason"] == {"format": 9}


def test_behavior_filter_and_correctness_options(server_factory, tmp_path):
    server = server_factory()
    with pytest.raises(RunStopped):  # the scripted answers show no backtracking
        run_llm(make_job(server, tmp_path / "a", n=3, behaviors=frozenset({"backtracking"}), max_attempts=4))
    run_llm(make_job(server, tmp_path / "b", n=3, behaviors=frozenset({"backtracking"}), behavior_filter=False))
    with pytest.raises(RunStopped):  # every scripted answer is correct
        run_llm(make_job(server, tmp_path / "c", n=3, correctness="incorrect", max_attempts=4))


def test_missing_key_fails_before_the_folder_exists(server_factory, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    server = server_factory()
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY"):
        run_llm(make_job(server, tmp_path / "run", provider="openai"))
    assert not (tmp_path / "run").exists() and server.requests == 0


def test_wrong_key_stops_at_once_and_the_canary_is_nowhere(server_factory, tmp_path, capsys):
    server = server_factory(require_key="the-real-key")
    with pytest.raises(RunStopped) as stopped:
        run_llm(make_job(server, tmp_path / "run", n=50, concurrency=2), progress=True)
    assert stopped.value.status == "api_error" and server.requests <= 3
    assert CANARY not in str(stopped.value)
    _assert_canary_absent(tmp_path, capsys)


def test_canary_never_written_in_a_faulty_run(server_factory, tmp_path, capsys):
    server = server_factory(faults=Faults(**vars(FAULTY)))
    run_llm(make_job(server, tmp_path / "run", n=20, timeout=0.2), progress=True)
    _assert_canary_absent(tmp_path, capsys)


def _assert_canary_absent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    captured = capsys.readouterr()
    assert CANARY not in captured.out + captured.err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_dry_run_opens_no_connection(server_factory, tmp_path, monkeypatch):
    server = server_factory()

    def refuse(*args, **kwargs):
        raise AssertionError("dry run opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    text = dry_run(make_job(server, tmp_path / "run", n=100, behaviors=frozenset({"verification"})))
    assert "## system prompt" in text and "## user prompt 3" in text and "high: $" in text
    assert server.requests == 0 and not (tmp_path / "run").exists()


def test_dry_run_without_price_says_so(server_factory, tmp_path):
    server = server_factory()
    text = dry_run(make_job(server, tmp_path / "run", model="my-local-model"))
    assert "no price for 'my-local-model'" in text


def test_ctrl_c_drains_in_flight_and_writes(server_factory, tmp_path):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers need the main thread")
    server = server_factory(latency=0.05)
    job = make_job(server, tmp_path / "run", n=400, concurrency=4)
    timer = threading.Timer(0.6, lambda: os.kill(os.getpid(), 2))
    timer.start()
    with pytest.raises(RunStopped) as stopped:
        run_llm(job)
    assert stopped.value.status == "interrupted"
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    cached = _lines(tmp_path / "run" / "responses.jsonl")
    assert 0 < len(records) < 400 and len(cached) == server.answered  # nothing in flight was dropped
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["status"] == "interrupted"


def test_resume_refuses_a_different_model(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=3)
    run_llm(job)
    with pytest.raises(ValueError, match="model"):
        run_llm(replace(job, model="claude-3-5-haiku-20241022", resume=True, n=5))


def test_fixed_problem_list_like_ablations_and_extending_it(server_factory, tmp_path):
    from cogbeh.countdown import sample_problems

    server = server_factory(answer=sometimes_malformed(0.3))
    problems = tuple(sample_problems(12, preset="paper", seed=4))
    job = make_job(server, tmp_path / "run", n=12, problems=problems[:6], max_attempts=6, resume=True)
    with pytest.raises(RunStopped) as stopped:  # the list runs out before n are accepted
        run_llm(job)
    assert stopped.value.status == "max_attempts"
    run_llm(replace(job, problems=problems, max_attempts=12, n=stopped.value.manifest["counts"]["accepted"] + 2))
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    assert all(r.problem_id == problems[r.index].id for r in records)
    with pytest.raises(ValueError, match="problems"):
        run_llm(replace(job, problems=problems[1:], max_attempts=11))


def test_false_arithmetic_is_rejected_unless_the_filters_are_off(server_factory, tmp_path):
    slip = "<think>5 + 5 = 11, and 11 is close enough.</think>\n<answer>1 + 2</answer>"
    server = server_factory(answer=lambda system, user: slip)
    with pytest.raises(RunStopped) as stopped:
        run_llm(make_job(server, tmp_path / "strict", n=2, max_attempts=3))
    assert stopped.value.manifest["counts"]["rejected_by_reason"] == {"arithmetic": 3}
    # --no-behavior-filter keeps every well-formed trace, as the paper did, slips included.
    run_llm(make_job(server, tmp_path / "paper", n=2, behavior_filter=False))
    assert len(list(read_records(tmp_path / "paper" / "records.jsonl"))) == 2
