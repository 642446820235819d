"""Batch mode: ids persisted at once, later-process status/collect/cancel, only failures resubmitted."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fake_server import Faults
from llm_helpers import make_job, sometimes_malformed

from cogbeh.llm.batch_admin import batch_cancel, batch_collect, batch_status
from cogbeh.llm.batches import LEDGER, Ledger
from cogbeh.llm.runner import RunStopped, run_llm
from cogbeh.records import read_records


def _created(folder) -> list[dict]:
    lines = [json.loads(line) for line in (folder / LEDGER).read_text().splitlines()]
    return [line for line in lines if line["event"] == "created"]


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_batch_run_resubmits_only_errored_and_expired(server_factory, tmp_path, provider):
    server = server_factory(answer=sometimes_malformed(0.1), faults=Faults(batch_errored=0.1, batch_expired=0.1),
                            batch_polls=2, seed=5)
    out = tmp_path / "run"
    manifest = run_llm(make_job(server, out, provider=provider, n=40, batch=True)).manifest
    records = list(read_records(out / "records.jsonl"))
    assert len(records) == 40 and manifest["status"] == "complete"
    batches = _created(out)
    assert len(batches) >= 2 and manifest["batches"] == [b["id"] for b in batches]
    first = {index for _, index, _ in batches[0]["items"]}
    cached = [json.loads(line)["index"] for line in (out / "responses.jsonl").read_text().splitlines()]
    submitted = [index for batch in batches for _, index, _ in batch["items"]]
    assert server.answered == len(cached) == len(set(cached))  # nothing answered twice
    resubmitted = [index for index in submitted if submitted.count(index) > 1]
    assert resubmitted and all(index in first for index in resubmitted)
    assert manifest["cost_usd"]["this_process"] > 0
    usage = json.loads((out / "responses.jsonl").read_text().splitlines()[0])
    assert usage["mode"] == "batch"
    if provider == "anthropic":  # the shared system prompt was marked for caching
        assert manifest["usage"]["this_process"]["cache_read_tokens"] > 0


def test_no_wait_then_status_and_collect_from_a_later_call(server_factory, tmp_path):
    server = server_factory(batch_polls=3)
    out = tmp_path / "run"
    with pytest.raises(RunStopped) as stopped:
        run_llm(make_job(server, out, n=10, batch=True, wait=False))
    assert stopped.value.status == "batch_pending"
    ids = list(Ledger(out).entries)
    assert len(ids) == 1  # the id is on disk although nothing has finished
    rows = batch_status(out)
    assert rows[0]["id"] == ids[0] and rows[0]["status"] == "in_progress" and not rows[0]["collected"]
    result = batch_collect(out, wait=True)
    assert result.manifest["status"] == "complete"
    assert len(list(read_records(out / "records.jsonl"))) == 10
    assert batch_status(out)[0]["collected"]


def test_cancel_from_a_later_call(server_factory, tmp_path):
    server = server_factory(batch_polls=5)
    out = tmp_path / "run"
    job = make_job(server, out, n=5, batch=True, wait=False)
    with pytest.raises(RunStopped):
        run_llm(job)
    rows = batch_cancel(out)
    assert rows and server.batches[rows[0]["id"]]["canceled"]
    with pytest.raises(RunStopped) as stopped:  # collect gathers what finished and submits nothing new
        batch_collect(out, wait=True)
    assert stopped.value.status == "canceled" and len(server.batches) == 1
    run_llm(replace(job, resume=True, wait=True))  # the main job's --resume submits again
    assert len(list(read_records(out / "records.jsonl"))) == 5 and len(server.batches) == 2


def test_collect_refuses_an_online_run(server_factory, tmp_path):
    server = server_factory()
    out = tmp_path / "run"
    run_llm(make_job(server, out, n=2))
    with pytest.raises(ValueError, match="online run"):
        batch_status(out)


def test_batch_max_cost_limits_the_submission(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=60, batch=True, max_cost=0.004, max_tokens=64)
    with pytest.raises(RunStopped) as stopped:
        run_llm(job)
    assert stopped.value.status == "max_cost"
    assert 0 < stopped.value.manifest["cost_usd"]["all_paid_responses"] <= 0.004
    run_llm(replace(job, max_cost=None, resume=True))
    assert len(list(read_records(tmp_path / "run" / "records.jsonl"))) == 60
