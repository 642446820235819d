"""kill -9 a local `cogbeh-gen curate classify` of 20,000 documents mid-way, rerun the same command: every
document is labelled exactly once, finished tasks are not redone, and the manifest counts all of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cogbeh.curate.labels import COUNT_FIELDS

DOCUMENTS, PER_SHARD = 20_000, 1_000
PARAGRAPHS = [
    "We want to find all real x with x^2 - 5x + 6 = 0. First, factor the quadratic: (x - 2)(x - 3) = 0.",
    "Wait, I dropped a sign in the second line; let me redo it. The sum should be 5, not -5.",
    "Let's check: substituting x = 2 gives 4 - 10 + 6 = 0, as it should.",
    "Working backwards from the result we need, the integral must equal pi/4, so the bound is 1.",
    "The proof proceeds by induction on n. The base case n = 1 is immediate from the definition.",
    "Exercise 3.2. Show that every finite integral domain is a field. Solution: take a nonzero a.",
]


def write_corpus(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(DOCUMENTS):
            body = "\n".join(PARAGRAPHS[(i + k) % len(PARAGRAPHS)] for k in range(3 + i % 9))
            handle.write(json.dumps({"id": f"owm-{i:05d}", "text": f"Document {i}.\n{body}\n"}) + "\n")


def command(corpus: Path, out: Path) -> list[str]:
    script = Path(sys.executable).parent / "cogbeh-gen"  # the installed console script, as a user runs it
    entry = [str(script)] if script.is_file() else [sys.executable, "-m", "cogbeh.cli.main"]
    return [*entry, "curate", "classify", str(corpus), "--out", str(out),
            "--docs-per-shard", str(PER_SHARD), "--workers", "2"]


def completed(out: Path) -> list[str]:
    folder = out / "logs" / "completions"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_labels_every_document_once(tmp_path: Path) -> None:
    corpus, out = tmp_path / "owm.jsonl", tmp_path / "run"
    write_corpus(corpus)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    # its own session: the kill reaches the forkserver and both workers too, as a kill -9 of the job would
    first = subprocess.Popen(command(corpus, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env, start_new_session=True)
    try:
        while len(completed(out)) < 5 and first.poll() is None and time.monotonic() - started < 120:
            time.sleep(0.01)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait()
    killed_at = time.monotonic() - started
    done_before = completed(out)
    assert 0 < len(done_before) < DOCUMENTS // PER_SHARD, "the kill must land mid-run"
    assert not (out / "manifest.json").exists()
    half_done = [p.stem for p in (out / "labelled").glob("*.jsonl") if p.stem not in done_before]
    kept = {name: (out / "labelled" / f"{name}.jsonl").stat().st_mtime_ns for name in done_before}

    rerun_started = time.monotonic()
    second = subprocess.run(command(corpus, out), capture_output=True, text=True, env=env, timeout=600)
    rerun_seconds = time.monotonic() - rerun_started
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.strip() == str(out)

    ids: Counter[str] = Counter()
    for path in sorted((out / "labelled").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            ids[row["id"]] += 1
            assert all(isinstance(row[field], int) for field in COUNT_FIELDS.values()), row["id"]
    assert len(ids) == DOCUMENTS and set(ids.values()) == {1}
    assert ids.keys() == {f"owm-{i:05d}" for i in range(DOCUMENTS)}
    # tasks finished before the kill were skipped, not redone
    assert {name: (out / "labelled" / f"{name}.jsonl").stat().st_mtime_ns for name in done_before} == kept
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["documents"] == DOCUMENTS and manifest["errors"] == 0
    assert len(completed(out)) == manifest["tasks"] == DOCUMENTS // PER_SHARD
    print(f"\nkill test: killed after {killed_at:.1f} s with {len(done_before)}/{manifest['tasks']} tasks done "
          f"and {len(half_done)} half-written; "
          f"rerun {rerun_seconds:.1f} s; total {time.monotonic() - started:.1f} s; "
          f"behaviors {manifest['behaviors']}")
