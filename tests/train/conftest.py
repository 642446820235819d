"""Fixtures for the training tests: a tiny local model and priming run folders, all built offline."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from cogbeh.behaviors import BEHAVIORS
from cogbeh.countdown import extract_answer, sample_problems, score
from cogbeh.records import Record, zero_counts
from cogbeh.templating import render
from cogbeh.traces import NoTrace, Shape, synthesize

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # loading by Hub id would otherwise hang ~48 s before failing
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def write_run_folder(folder: Path, n: int, *, seed: int = 0, preset: str = "paper") -> list[Record]:
    """A run folder with records.jsonl, built from the symbolic engine directly (no classifier needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    shape = Shape(True, True, True, True, backtracks=1, backward_depth=1)
    for index, problem in enumerate(sample_problems(n * 2, preset=preset, seed=seed)):
        if len(records) == n:
            break
        try:
            trace = synthesize(problem, shape, random.Random(f"{seed}:{index}"))
        except NoTrace:
            continue
        records.append(
            Record(
                id=f"all-{seed}-{index}",
                condition="all",
                behaviors=list(BEHAVIORS),
                nums=list(problem.nums),
                target=problem.target,
                prompt=render("prompts/query.jinja", nums=problem.nums, target=problem.target),
                completion=trace.text,
                answer=extract_answer(trace.text),
                correct=score(trace.text, problem.nums, problem.target) == 1.0,
                behavior_counts=zero_counts(),
                provider="symbolic",
                model=None,
                seed=seed,
                index=index,
                problem_id=problem.id,
            )
        )
    (folder / "records.jsonl").write_text("".join(r.to_json_line() + "\n" for r in records), encoding="utf-8")
    return records


@pytest.fixture(scope="session")
def make_run_folder():  # -> Callable[..., list[Record]]
    """write_run_folder, for tests that need their own priming folder."""
    return write_run_folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init Qwen2 (hidden 64, 2 layers), a BPE tokenizer trained on our traces, no chat template."""
    from cogbeh.train.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def priming_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder with 48 priming records."""
    folder = tmp_path_factory.mktemp("priming")
    write_run_folder(folder, 48)
    return folder
