"""kill -9 at random moments, then --resume: exactly n unique records, no corrupt line, little paid twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cogbeh.records import read_records

SCRIPT = Path(__file__).with_name("run_job.py")
KILLS, N, CONCURRENCY = 5, 120, 4


def _start(url: str, out: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(SCRIPT), url, str(out), str(N), mode], env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_sigkill_then_resume(server_factory, tmp_path):
    server = server_factory(latency=0.08)
    out = tmp_path / "run"
    rng = random.Random(7)
    kills = 0
    for round_number in range(KILLS):
        process = _start(server.url, out, "resume" if round_number else "fresh")
        goal = server.answered + rng.randint(4, 18)
        deadline = time.monotonic() + 30
        while server.answered < goal and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    final = _start(server.url, out, "resume")
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()[-2000:]
    records = list(read_records(out / "records.jsonl"))  # raises on any corrupt line
    assert len(records) == N and len({r.id for r in records}) == N
    assert all(json.loads(line) for line in (out / "responses.jsonl").read_text().splitlines())
    assert kills >= 3
    # Only what was in flight at a kill can be paid twice.
    assert server.duplicates() <= kills * CONCURRENCY, (server.duplicates(), kills)
    print(f"kills={kills} paid_twice={server.duplicates()} bound={kills * CONCURRENCY} answered={server.answered}")
