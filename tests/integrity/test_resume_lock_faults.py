"""Run integrity (issue 12, items 1, 2, 6, 7): resume checks identity, one writer per folder, faults stop a run
instead of eating data, and bad input is one line (exit 2, no traceback, nothing half-written)."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cogbeh.ablation import AblationError, run_ablation
from cogbeh.cli.main import main
from cogbeh.countdown import check, countdown_reward, load_problems, sample_problems, score
from cogbeh.paths import templates_dir
from cogbeh.pipeline import JobConfig, run
from cogbeh.runfiles import FolderLock, RunFolderError
from cogbeh.spec import parse_spec

CLI = [sys.executable, "-m", "cogbeh.cli.main"]
TINY_SPEC: dict[str, Any] = {"name": "tiny", "n_train": 6, "n_test": 2,
                             "conditions": [{"behavior": "none"}, {"behavior": "backtracking"}]}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exactly one line on stderr, no traceback; returns it."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogbeh-gen: error: "), done.stderr
    return lines[0]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def indices(path: Path) -> list[int]:
    """Indices of the complete JSON lines of a run file (a torn last line is skipped)."""
    found = []
    for line in lines(path):
        try:
            found.append(json.loads(line)["index"])
        except ValueError:
            continue
    return found


def config(out: Path, **changes: Any) -> JobConfig:
    base = JobConfig(behaviors=frozenset({"backtracking"}), n=4, out=out, seed=0)
    return replace(base, **changes)


# -- 1. resume checks identity --------------------------------------------------------------------------------
def test_symbolic_resume_with_other_options_is_refused_naming_each(tmp_path: Path) -> None:
    # Before: exit 0 and 10 backtracking records followed by 10 verification records of another seed.
    out = tmp_path / "r"
    assert cli("-b", "backtracking", "-n", "20", "--out", str(out), "-q").returncode == 0
    (out / "records.jsonl").write_text("".join(line + "\n" for line in lines(out / "records.jsonl")[:10]))
    before = (out / "records.jsonl").read_bytes()
    done = cli("-b", "verification", "-n", "20", "--seed", "7", "--out", str(out), "--resume", "-q")
    assert done.returncode == 2
    message = one_error_line(done)
    assert '--behavior "verification" (was "backtracking")' in message and "--seed 7 (was 0)" in message
    assert "--overwrite" in message
    assert (out / "records.jsonl").read_bytes() == before
    # The same options finish it, byte-identical to an uninterrupted run.
    assert cli("-b", "backtracking", "-n", "20", "--out", str(out), "--resume", "-q").returncode == 0
    assert cli("-b", "backtracking", "-n", "20", "--out", str(tmp_path / "fresh"), "-q").returncode == 0
    assert (out / "records.jsonl").read_bytes() == (tmp_path / "fresh" / "records.jsonl").read_bytes()


def _templates_copy(folder: Path, *, changed: bool) -> str:
    shutil.copytree(templates_dir(), folder)
    if changed:
        with (folder / "traces" / "trace.jinja").open("a", encoding="utf-8") as handle:
            handle.write("{# edited #}")
    return str(folder)


@pytest.mark.parametrize(("changes", "named"), [
    ({"seed": 1}, "--seed 1 (was 0)"),
    ({"preset": "tinyzero"}, '--preset "tinyzero" (was "paper")'),
    ({"backtracks": (2, 2)}, "--backtracks [2, 2] (was null)"),
    ({"incorrect": True}, "--incorrect true (was false)"),
    ({"behavior_filter": False}, "behavior_filter (--no-behavior-filter) false (was true)"),
    ({"behaviors": frozenset({"backtracking", "verification"})}, '--behavior "backtracking+verification"'),
    ({"exclude": "first"}, "--exclude"),
    ({"template_dir": "edited"}, "templates (--template-dir contents)"),
])
def test_each_option_that_shapes_records_is_checked(tmp_path: Path, changes: dict[str, Any], named: str) -> None:
    base = config(tmp_path / "r", template_dir=_templates_copy(tmp_path / "tpl", changed=False))
    run(base)
    if changes.get("exclude") == "first":
        changes = {"exclude": tuple(sample_problems(1, preset="paper", seed=0))}
    if changes.get("template_dir") == "edited":
        changes = {"template_dir": _templates_copy(tmp_path / "tpl2", changed=True)}
    with pytest.raises(RunFolderError) as refused:
        run(replace(base, resume=True, n=6, **changes))
    assert str(refused.value).startswith(f"--resume with options that differ from those {base.out} was made with")
    assert named in str(refused.value)
    assert len(lines(base.out / "records.jsonl")) == 4


def test_n_may_grow_and_an_explicit_problem_list_may_be_extended_but_not_changed(tmp_path: Path) -> None:
    run(config(tmp_path / "r"))
    grown = run(config(tmp_path / "r", n=9, resume=True))
    assert grown.records == run(config(tmp_path / "fresh", n=9)).records
    problems = tuple(sample_problems(30, preset="paper", seed=3))
    listed = config(tmp_path / "list", problems=problems[:12], max_attempts=12)
    run(listed)
    run(replace(listed, problems=problems, max_attempts=30, n=8, resume=True))  # extended: fine
    with pytest.raises(RunFolderError, match="problem list"):
        run(replace(listed, problems=problems[1:], max_attempts=29, n=9, resume=True))


def test_job_json_is_written_before_the_first_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cogbeh.pipeline as pipeline

    seen: list[bool] = []
    original = pipeline.produce

    def spying(job: JobConfig, index: int, problem: Any) -> Any:
        seen.append((job.out / "job.json").is_file())
        return original(job, index, problem)

    monkeypatch.setattr(pipeline, "produce", spying)
    run(config(tmp_path / "r", workers=1))
    assert seen and all(seen)
    saved = json.loads((tmp_path / "r" / "job.json").read_text())
    for key in ("behavior", "seed", "preset", "backtracks", "backward_steps", "incorrect", "behavior_filter",
                "template_hashes", "exclude", "problems", "n"):
        assert key in saved


def test_records_without_a_job_file_are_not_resumed_blindly(tmp_path: Path) -> None:
    run(config(tmp_path / "r"))
    (tmp_path / "r" / "job.json").unlink()
    with pytest.raises(RunFolderError, match="no job.json"):
        run(config(tmp_path / "r", n=6, resume=True))


def test_ablation_resume_of_a_finished_run_is_a_no_op_that_says_so(tmp_path: Path) -> None:
    # Before: an IndexError traceback, later a silent full re-run.
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(json.dumps(TINY_SPEC))
    out = tmp_path / "abl"
    assert cli("ablation", str(spec_file), "--out", str(out), "-q").returncode == 0
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != ".cogbeh.lock"}
    done = cli("ablation", str(spec_file), "--out", str(out), "--resume", "-q")
    assert done.returncode == 0, done.stderr
    assert "already complete" in done.stderr and "Traceback" not in done.stderr
    assert {p: p.read_bytes() for p in files} == files


def test_ablation_resume_with_another_exclude_is_refused(tmp_path: Path) -> None:
    spec = parse_spec(TINY_SPEC)
    run_ablation(spec, out=tmp_path / "abl")
    excluded = tmp_path / "ex.jsonl"
    excluded.write_text('{"nums": [1, 2, 3], "target": 6}\n')
    with pytest.raises(AblationError, match=r"--exclude"):
        run_ablation(spec, out=tmp_path / "abl", resume=True, exclude=str(excluded))


# -- 2. one writer per folder ---------------------------------------------------------------------------------
def _wait_for(condition: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_second_process_on_the_same_folder_fails_fast_naming_the_holder(tmp_path: Path) -> None:
    # Before: both processes appended to records.jsonl (4000 lines for -n 2000) and both exited 0.
    out = tmp_path / "r"
    first = subprocess.Popen([*CLI, "-b", "all", "-n", "5000", "--workers", "1", "--out", str(out), "-q"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        lock = out / ".cogbeh.lock"
        _wait_for(lambda: lock.is_file() and lock.read_text().strip() and len(lines(out / "records.jsonl")) > 3)
        for extra in (["--resume"], ["--overwrite"], []):
            began = time.monotonic()
            done = cli("-b", "all", "-n", "5000", "--out", str(out), *extra, "-q")
            assert done.returncode == 2, done.stderr
            assert f"pid {first.pid}" in one_error_line(done) and "in use" in done.stderr
            assert time.monotonic() - began < 60  # refused at once, not after waiting for the holder
            assert first.poll() is None  # the holder runs on, its files untouched (--overwrite deleted nothing)
        assert len(lines(out / "records.jsonl")) > 3
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The operating system dropped the lock with the killed holder: a resume takes the folder over.
    kept = len(indices(out / "records.jsonl"))
    done = cli("-b", "all", "-n", str(kept + 3), "--out", str(out), "--resume", "-q")
    assert done.returncode == 0, done.stderr
    assert len(lines(out / "records.jsonl")) == kept + 3


def test_ablation_and_library_runs_respect_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "abl"
    out.mkdir()
    with FolderLock(out).acquire():
        with pytest.raises(RunFolderError, match=f"pid {os.getpid()}"):
            run_ablation(parse_spec(TINY_SPEC), out=out)
        with pytest.raises(RunFolderError, match=f"pid {os.getpid()}"):
            run(config(out))
    assert [p.name for p in out.iterdir()] == [".cogbeh.lock"]
    run(config(out))  # released: the folder (holding only the lock file) counts as empty


# -- 6. faults: kill -9 loses no rejection, a damaged line stops a resume -------------------------------------
@pytest.mark.slow
def test_kill_9_loses_no_rejected_line(tmp_path: Path) -> None:
    # Before: rejected.jsonl was block-buffered, so a kill lost rejections that records.jsonl had passed.
    out = tmp_path / "r"
    process = subprocess.Popen([*CLI, "-b", "all", "-n", "5000", "--workers", "1", "--out", str(out), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(lines(out / "records.jsonl")) >= 150)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    seen = sorted(indices(out / "records.jsonl") + indices(out / "rejected.jsonl"))
    assert len(indices(out / "rejected.jsonl")) > 0
    assert seen == list(range(len(seen)))  # every candidate up to the kill is on disk, records or rejections
    n = len(indices(out / "records.jsonl")) + 10
    assert cli("-b", "all", "-n", str(n), "--workers", "1", "--out", str(out), "--resume", "-q").returncode == 0
    assert cli("-b", "all", "-n", str(n), "--out", str(tmp_path / "fresh"), "-q").returncode == 0
    for name in ("records.jsonl", "rejected.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    assert counts["rejected"] == len(lines(out / "rejected.jsonl"))
    assert counts["attempted"] == counts["accepted"] + counts["rejected"]


@pytest.mark.parametrize(("bad", "said"), [('{"index": 4, "oops', "records.jsonl:5: not valid JSON"),
                                           ("[1, 2]", "records.jsonl:5: not a JSON object"),
                                           ('{"index": 4}', "record 5 is not a valid record")])
def test_a_damaged_middle_line_stops_a_resume_with_its_number(tmp_path: Path, bad: str, said: str) -> None:
    # Before: a traceback, after 1000 records had been appended behind the damaged line.
    out = tmp_path / "r"
    assert cli("-b", "backtracking", "-n", "12", "--out", str(out), "-q").returncode == 0
    kept = lines(out / "records.jsonl")
    (out / "records.jsonl").write_text("".join(line + "\n" for line in [*kept[:4], bad, *kept[5:]]))
    before = (out / "records.jsonl").read_bytes()
    done = cli("-b", "backtracking", "-n", "20", "--out", str(out), "--resume", "-q")
    assert done.returncode == 2
    assert said in one_error_line(done) and "--overwrite" in done.stderr
    assert (out / "records.jsonl").read_bytes() == before


def test_a_torn_last_line_is_still_a_crash_mid_write_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli("-b", "backtracking", "-n", "12", "--out", str(out), "-q").returncode == 0
    data = (out / "records.jsonl").read_bytes()
    (out / "records.jsonl").write_bytes(data[: len(data) - 200])  # cut inside the last line
    assert cli("-b", "backtracking", "-n", "12", "--out", str(out), "--resume", "-q").returncode == 0
    assert (out / "records.jsonl").read_bytes() == data


# -- 7. one line instead of tracebacks ------------------------------------------------------------------------
@pytest.mark.parametrize(("template", "edit", "said"), [
    ("traces/intro.jinja", "{% if %}", ["template 'traces/intro.jinja', line ", "Expected an expression"]),
    ("traces/trace.jinja", "{{ no_such_variable }}",
     ["template 'traces/trace.jinja', line ", "'no_such_variable' is undefined"]),
    ("prompts/query.jinja", "{{ nums + 'x' }}", ["template 'prompts/query.jinja', line ", "TypeError"]),
    ("prompts/query.jinja", "{% include 'gone.jinja' %}",
     ["'gone.jinja' not found", "'prompts/query.jinja', line "]),
])
def test_template_errors_are_one_line_naming_template_and_line(tmp_path: Path, template: str, edit: str,
                                                               said: list[str]) -> None:
    # Before: a Jinja traceback (syntax errors, missing includes) and a half-made run folder.
    folder = Path(_templates_copy(tmp_path / "tpl", changed=False))
    source = (folder / template).read_text(encoding="utf-8").rstrip("\n").split("\n")
    (folder / template).write_text("\n".join([*source, edit, ""]), encoding="utf-8")
    line = len(source) + 1
    done = cli("-b", "backtracking", "-n", "3", "--template-dir", str(folder), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    message = one_error_line(done)
    assert all(part in message for part in said), message
    assert f"line {line}" in message
    assert not (tmp_path / "o").exists()  # found before the run folder was made


@pytest.mark.parametrize(("exclude", "said"), [
    ("missing.jsonl", "the spec's 'exclude: missing.jsonl'"),
    ("floats.jsonl", "floats.jsonl:1: each of 'nums' must be a whole number, got 3.5"),
])
def test_a_bad_spec_exclude_is_one_line(tmp_path: Path, exclude: str, said: str) -> None:
    (tmp_path / "floats.jsonl").write_text('{"nums": [3.5, 4, 5], "target": 12}\n')
    (tmp_path / "spec.yaml").write_text(json.dumps({**TINY_SPEC, "exclude": exclude}))
    done = cli("ablation", "spec.yaml", "--out", "abl", cwd=tmp_path)
    assert done.returncode == 2
    assert said in one_error_line(done)
    assert not (tmp_path / "abl").exists()


@pytest.mark.parametrize(("damage", "said"), [
    ({"manifest.json": '{"condition": "backtr'}, "manifest.json is not valid JSON"),
    ({"manifest.json": "[1, 2]"}, "manifest.json is not a JSON object"),
    ({"manifest.json": "{}"}, "names no 'condition'"),
    ({"manifest.json": '{"conditions": {"a": 1}}'}, "'conditions' must map each config"),
    ({"records.jsonl": ""}, "records.jsonl holds no records"),
    ({"records.jsonl": "garbage\n"}, "records.jsonl:1: not a valid record"),
])
def test_publish_of_a_damaged_folder_is_one_line(tmp_path: Path, damage: dict[str, str], said: str) -> None:
    out = tmp_path / "r"
    assert cli("-b", "backtracking", "-n", "4", "--out", str(out), "-q").returncode == 0
    for name, text in damage.items():
        (out / name).write_text(text)
    done = cli("publish", str(out), "--repo-id", "me/x", "--dry-run")
    assert done.returncode == 2
    assert said in one_error_line(done)


def test_a_full_disk_is_one_line_naming_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import cogbeh.pipeline as pipeline

    # /dev/full answers every write with the kernel's own ENOSPC.
    monkeypatch.setattr(pipeline, "append_handle", lambda path: open("/dev/full", "a", encoding="utf-8"))
    out = tmp_path / "r"
    with pytest.raises(SystemExit) as exited:
        main(["-b", "backtracking", "-n", "3", "--workers", "1", "--out", str(out), "-q"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"no space left to write {out}" in err[0] and "--resume" in err[0]


def test_a_full_disk_anywhere_else_is_one_line_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import cogbeh.hub as hub

    out = tmp_path / "r"
    run(config(out))

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "hub" / "README.md"))

    monkeypatch.setattr(hub, "layout", full)
    with pytest.raises(SystemExit) as exited:
        main(["publish", str(out), "--repo-id", "me/x", "--dry-run"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no space left on the device writing" in err[0] and "README.md" in err[0]


@pytest.mark.parametrize(("nums", "target", "said"), [
    ([3, 4], None, "target must be a whole number, got None"),
    ([3, 4], math.nan, "target must be a whole number, got nan"),
    ([3, 4], 7.5, "got 7.5 (refusing to round it)"),
    ([3.7, 4], 7, "each of nums must be a whole number, got 3.7"),
    (None, 7, "nums must be a list of whole numbers"),
])
def test_check_and_score_refuse_a_malformed_table_clearly(nums: Any, target: Any, said: str) -> None:
    # Before: TypeError/ValueError from deep inside Fraction, or int(3.7) == 3 let "3 + 4" score 1.0.
    for call in (lambda: check("3 + 4", nums, target), lambda: score("<answer>3 + 4</answer>", nums, target),
                 lambda: score(None, nums, target), lambda: countdown_reward(["x"], [nums], [target])):
        with pytest.raises(ValueError, match=said.replace("(", r"\(").replace(")", r"\)")):
            call()


def test_whole_floats_count_as_their_integers() -> None:
    assert check("3 + 4", [3.0, 4], 7.0) and score("<answer>3 + 4</answer>", [3, 4.0], 7) == 1.0
    assert not check("3 + 4", [3.0, 4], 8.0)


def test_problem_files_refuse_fractional_numbers_and_read_whole_floats(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"nums": [3.0, 4, 5], "target": 12.0}\n')
    [problem] = load_problems(path)
    assert problem.nums == (3, 4, 5) and problem.target == 12 and all(type(n) is int for n in problem.nums)
    path.write_text('{"nums": [3, 4, 5], "target": 12}\n{"nums": [3.5, 4, 5], "target": 12}\n')
    done = cli("-b", "none", "-n", "3", "--exclude", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "p.jsonl:2: each of 'nums' must be a whole number, got 3.5" in one_error_line(done)
    assert not (tmp_path / "o").exists()
