"""Faults are faults (issue 12, item 6): a dead endpoint or 5xx after retries stops the run with the cause in one
line and consumes no problem; resume identity, damaged lines and the folder lock on the LLM path."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fake_server import Faults
from llm_helpers import CANARY, make_job, sometimes_malformed

from cogbeh.llm.runner import RunStopped, run_llm
from cogbeh.records import read_records
from cogbeh.runfiles import FolderLock, RunFolderError

SCRIPT = Path(__file__).with_name("run_job.py")


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _indices(path: Path) -> list[int]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        try:
            found.append(json.loads(line)["index"])
        except ValueError:
            continue  # a torn last line
    return found


def test_connection_refused_stops_with_the_cause_and_consumes_nothing(server_factory, tmp_path):
    # Before: every candidate became an 'api_error: connection' rejection, the run ended on "raise
    # --max-attempts", and a later --resume skipped all those problems for good.
    port = _closed_port()
    server = server_factory()
    job = replace(make_job(server, tmp_path / "run", n=6, retries=1), base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(RunStopped) as stopped:
        run_llm(job)
    message = str(stopped.value)
    assert stopped.value.status == "api_error"
    assert f"cannot connect to http://127.0.0.1:{port}: connection refused" in message and "\n" not in message
    assert "--resume" in message
    assert _indices(tmp_path / "run" / "rejected.jsonl") == [] and _indices(tmp_path / "run" / "records.jsonl") == []
    # Once the endpoint is up, --resume starts from the first problem: nothing was skipped.
    run_llm(replace(job, base_url=server.url, resume=True))
    records = list(read_records(tmp_path / "run" / "records.jsonl"))
    assert [r.index for r in records] == list(range(6))


def test_5xx_after_retries_stops_and_resume_retries_that_problem(server_factory, tmp_path):
    server = server_factory(faults=Faults(script=["ok"] * 3 + ["server_error"] * 50))
    job = make_job(server, tmp_path / "run", n=6, retries=2, concurrency=1)
    with pytest.raises(RunStopped) as stopped:
        run_llm(job)
    assert stopped.value.status == "api_error"
    assert "HTTP 500" in str(stopped.value) and "after 2 retries" in str(stopped.value)
    assert _indices(tmp_path / "run" / "records.jsonl") == [0, 1, 2]
    assert _indices(tmp_path / "run" / "rejected.jsonl") == []  # the failed problem 3 was not consumed
    assert stopped.value.manifest["status"] == "api_error"
    server.faults.script = []
    run_llm(replace(job, resume=True))
    assert _indices(tmp_path / "run" / "records.jsonl") == list(range(6))


def test_the_cli_says_it_in_one_line(tmp_path):
    port = _closed_port()
    env = {**os.environ, "OPENAI_API_KEY": CANARY}
    done = subprocess.run([sys.executable, "-m", "cogbeh.cli.main", "-b", "none", "-n", "3", "--provider", "openai",
                           "--model", "gpt-4o-mini", "--base-url", f"http://127.0.0.1:{port}/v1", "--retries", "1",
                           "--out", str(tmp_path / "run"), "-q"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogbeh-gen: error: "), done.stderr
    assert f"cannot connect to http://127.0.0.1:{port}: connection refused" in lines[0]
    assert CANARY not in done.stderr


def test_resume_conflict_has_the_symbolic_shape_and_names_every_option(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=3)
    run_llm(job)
    with pytest.raises(RunFolderError) as refused:
        run_llm(replace(job, model="gpt-4o", temperature=0.5, seed=3, resume=True, n=5))
    message = str(refused.value)
    assert message.startswith(f"--resume with options that differ from those {job.out} was made with: ")
    for part in ('--model "gpt-4o" (was "claude-3-5-sonnet-20241022")', "--temperature 0.5 (was null)",
                 "--seed 3 (was 0)"):
        assert part in message
    assert message.endswith("use the same options, another --out, or --overwrite")


def test_a_damaged_middle_line_stops_resume_and_a_torn_last_line_does_not(server_factory, tmp_path):
    server = server_factory()
    job = make_job(server, tmp_path / "run", n=6)
    run_llm(job)
    path = tmp_path / "run" / "records.jsonl"
    good = path.read_text().splitlines()
    path.write_text("\n".join([*good[:2], "{not json", *good[3:]]) + "\n")
    with pytest.raises(RunFolderError, match=r"records\.jsonl:3: not valid JSON .*head -n 2"):
        run_llm(replace(job, resume=True, n=8))
    path.write_text("\n".join(good) + "\n" + good[-1][:40])  # a crash mid-write of a seventh line
    run_llm(replace(job, resume=True, n=8))
    assert len(list(read_records(path))) == 8


def test_a_locked_folder_is_refused_naming_the_holder(server_factory, tmp_path):
    server = server_factory()
    out = tmp_path / "run"
    out.mkdir()
    with FolderLock(out).acquire():
        with pytest.raises(RunFolderError, match=f"in use by another cogbeh-gen process \\(pid {os.getpid()}\\)"):
            run_llm(make_job(server, out, n=3))
    assert server.requests == 0 and [p.name for p in out.iterdir()] == [".cogbeh.lock"]
    run_llm(make_job(server, out, n=3))  # released with the with-block


@pytest.mark.slow
def test_kill_9_keeps_every_committed_rejection(server_factory, tmp_path):
    server = server_factory(answer=sometimes_malformed(0.5), latency=0.02)
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, str(SCRIPT), server.url, str(out), "400", "fresh"],
                               env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_indices(out / "rejected.jsonl")) < 10 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    seen = sorted(_indices(out / "records.jsonl") + _indices(out / "rejected.jsonl"))
    assert len(_indices(out / "rejected.jsonl")) >= 10
    assert seen == list(range(len(seen)))  # committed in order, nothing lost to a buffer
