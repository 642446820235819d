"""`cogbeh-gen reproduce`: spec validation, dry-run plan, the tiny grid end to end, kill and resume."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cogbeh.cli.main import cli, main
from cogbeh.paths import generators_dir

TINY = generators_dir() / "reproduce" / "tiny.yaml"
PAPER = generators_dir() / "reproduce" / "paper.yaml"


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _spec(tmp_path: Path, **changes: object) -> Path:
    import yaml

    data = yaml.safe_load(TINY.read_text())
    data.update(changes)
    for key in ("sft", "rl"):  # paths stay valid from the temporary folder
        data[key]["config"] = str(generators_dir() / "train" / Path(data[key]["config"]).name)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 3}, "unknown key 'epochs'"),
        ({"conditions": ["none", "bogus"]}, "'bogus' is not a condition of ablation 'tiny'"),
        ({"conditions": ["none", "none"]}, "condition 'none' is listed twice"),
        ({"models": [{"name": "m", "tiny": "tiny", "path": "x"}]}, "needs exactly one of 'path' or 'tiny'"),
        ({"sft": {"config": "missing.yaml"}}, "sft.config: no such file 'missing.yaml'"),
        ({"eval": {"problems": "tinyzero", "temperature": -1}}, "eval.temperature"),
    ],
)
def test_a_bad_spec_is_one_line_and_exit_2(tmp_path: Path, capsys, changes: dict, message: str) -> None:
    spec = _spec(tmp_path)
    if "sft" in changes:
        import yaml

        data = yaml.safe_load(spec.read_text())
        data.update(changes)
        spec.write_text(yaml.safe_dump(data))
    else:
        spec = _spec(tmp_path, **changes)
    with pytest.raises(SystemExit) as stop:
        main(["reproduce", str(spec), "--dry-run"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.count("\n") == 1 and err.startswith("cogbeh-gen: error: ") and message in err


def test_dry_run_prints_stages_runs_and_an_estimate(tmp_path: Path) -> None:
    code, out, _ = _cli("reproduce", str(TINY), "--dry-run", "--out", str(tmp_path / "r"))
    assert code == 0
    for stage in (
        "ablation",
        "model-tiny",
        "data-none",
        "sft-tiny-none",
        "rl-tiny-all",
        "eval-tiny-all",
        "report",
    ):
        assert f"todo  {stage}\n" in out
    assert "tiny [tiny model (tiny)] x all: sft sft_cpu.yaml -> rl grpo_cpu.yaml -> eval (8 problems)" in out
    assert "GPU-hours" in out and "4 RL steps x 8 completions" in out
    assert not (tmp_path / "r").exists(), "a dry run writes nothing"


def test_paper_grid_dry_run_covers_both_models_and_every_condition() -> None:
    code, out, _ = _cli("reproduce", str(PAPER), "--dry-run")
    assert code == 0, out
    for name in ("llama-3.2-3b", "qwen-2.5-3b"):
        for condition in ("none", "backtracking", "all", "empty_cot", "length_matched", "incorrect_only"):
            assert f"sft-{name}-{condition}\n" in out
    total = float(out.split("total: ")[1].split(" GPU-hours")[0])
    assert 10 < total < 100_000


def test_a_stage_with_other_settings_is_stale(tmp_path: Path) -> None:
    from cogbeh.train.reproduce import plan
    from cogbeh.train.reproduce_spec import load_reproduce_spec

    loaded = load_reproduce_spec(TINY, out=tmp_path)
    sft = next(s for s in plan(loaded) if s.id == "sft-tiny-all")
    sft.marker(tmp_path).parent.mkdir(parents=True)
    sft.marker(tmp_path).write_text(json.dumps({"key": sft.key}))
    assert sft.status(tmp_path) == "done"
    changed = load_reproduce_spec(
        _spec(tmp_path, sft={"config": "sft_cpu.yaml", "max_steps": 2}), out=tmp_path
    )
    assert next(s for s in plan(changed) if s.id == "sft-tiny-all").status(tmp_path) == "stale"
    assert (
        next(s for s in plan(changed) if s.id == "eval-tiny-all").key
        != next(s for s in plan(loaded) if s.id == "eval-tiny-all").key
    ), "downstream stages follow their inputs"


def _results_complete(out: Path) -> None:
    assert (out / "results" / "tiny.png").stat().st_size > 10_000
    for condition in ("none", "all"):
        with (out / "results" / "tiny" / f"{condition}.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert [int(r["step"]) for r in rows] == [0, 2, 4]
        assert {r["condition"] for r in rows} == {condition} and {r["model"] for r in rows} == {"tiny"}
        assert {"accuracy", "verification", "backtracking", "subgoal_setting", "backward_chaining"} <= set(
            rows[0]
        )


@pytest.mark.slow
def test_tiny_grid_killed_during_rl_resumes_and_ends_with_the_figure_and_a_csv_per_run(
    tmp_path: Path,
) -> None:
    """One CPU run of the tiny spec (killed once after SFT, resumed), then a rerun that skips every stage."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [sys.executable, "-m", "cogbeh.cli.main", "reproduce", str(TINY), "--out", str(tmp_path)]
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    stages = tmp_path / "stages"
    try:
        deadline = time.monotonic() + 120
        partial = tmp_path / "runs" / "tiny" / "none" / "rl" / "checkpoint-2" / "config.json"
        while not partial.is_file():  # data and SFT done, RL half way: its first checkpoint is written
            assert child.poll() is None and time.monotonic() < deadline, (
                "the run ended before RL's checkpoint"
            )
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert not (stages / "rl-tiny-none.json").exists()
    finished = {p.name: p.stat().st_mtime_ns for p in stages.iterdir()}
    assert {"ablation.json", "model-tiny.json", "data-none.json", "sft-tiny-none.json"} <= set(finished)
    ablation = (tmp_path / "ablation" / "manifest.json").stat().st_mtime_ns

    code, _, err = _cli("reproduce", str(TINY), "--out", str(tmp_path))
    assert code == 0, err
    for name, mtime in finished.items():
        assert f"skip {name.removesuffix('.json')} (done)" in err
        assert (stages / name).stat().st_mtime_ns == mtime
    assert (tmp_path / "ablation" / "manifest.json").stat().st_mtime_ns == ablation
    assert "run  rl-tiny-none" in err and "run  sft-tiny-all" in err
    _results_complete(tmp_path)
    code, _, err = _cli("reproduce", str(TINY), "--out", str(tmp_path))
    assert code == 0 and "run " not in err and err.count("skip ") == 11
