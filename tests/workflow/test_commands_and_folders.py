"""The commands users expect (--version, list, env), errors that used to be silent or tracebacks, Ctrl-C,
repeated --control, checks before generation, and run folders that load like Hub datasets (and train with
trl)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cogbeh import __version__

CLI = [sys.executable, "-m", "cogbeh.cli.main"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, **OFFLINE, **(env or {})})


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("cogbeh-gen: error: ")
    return lines[0]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- --version, list, env -----------------------------------------------------------------------------------

def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"cogbeh-gen {__version__}"


def test_list_shows_every_registry_name() -> None:
    from cogbeh.behaviors import BEHAVIORS, PAPER_ALIASES
    from cogbeh.controls import ALIASES, CONTROLS
    from cogbeh.countdown import PRESETS
    from cogbeh.formats import FORMATS
    from cogbeh.paths import generators_dir

    done = cli("list")
    assert done.returncode == 0, done.stderr
    specs = [p.stem for p in [*generators_dir().glob("*.yaml"), *generators_dir().glob("train/*.yaml")]]
    for name in [*BEHAVIORS, *PAPER_ALIASES, *CONTROLS, *ALIASES, *PRESETS, *FORMATS, *specs]:
        assert name in done.stdout, name
    assert specs and str(generators_dir() / "paper.yaml") in done.stdout  # a path to pass to `ablation`


def test_list_json_and_one_section() -> None:
    from cogbeh.controls import ALIASES, CONTROLS

    found = json.loads(cli("list", "--json").stdout)
    assert list(found) == ["behaviors", "aliases", "controls", "presets", "formats", "specs"]
    assert found["aliases"]["all_strategies"] == "all" and found["aliases"]["negative_control"] == "none"
    assert set(found["controls"]) == set(CONTROLS)
    assert {a for c in found["controls"].values() for a in c["aliases"]} == set(ALIASES)
    assert found["specs"]["paper"]["kind"] == "ablation"
    assert found["specs"]["train/sft_cpu"]["kind"] == "train config"
    only = cli("list", "presets")
    assert "paper" in only.stdout and "backtracking" not in only.stdout
    one_error_line(cli("list", "nonsense"))


def test_env_reports_versions_and_never_a_secret() -> None:
    secrets = {"HF_TOKEN": "hf_SECRETvalue123456789", "ANTHROPIC_API_KEY": "sk-ant-SECRET-key",
               "OPENAI_BASE_URL": "http://user:PASSWORD@127.0.0.1:9/v1?key=QUERYSECRET"}
    done = cli("env", env={**secrets, "OPENAI_API_KEY": ""})
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for word in (f"cogbeh-gen: {__version__}", "python:", "platform:", "cpus:", "datasets:", "torch",
                 "HF_HUB_OFFLINE: 1", "HF_TOKEN: set", "ANTHROPIC_API_KEY: set", "OPENAI_API_KEY: unset",
                 "OPENAI_BASE_URL: http://127.0.0.1:9/v1"):
        assert word in text, word
    for secret in ("SECRETvalue", "sk-ant-SECRET", "PASSWORD", "QUERYSECRET"):
        assert secret not in text and secret not in done.stderr
    found = json.loads(cli("env", "--json", env=secrets).stdout)
    assert found["secrets"]["HF_TOKEN"] == "set" and "SECRET" not in json.dumps(found)


# --- one line instead of silence or a traceback -------------------------------------------------------------

@pytest.mark.parametrize(("args", "flag", "command"), [
    (["-n", "5", "classify", "x.jsonl"], "-n", "classify"),
    (["-b", "all", "list"], "--behavior", "list"),
    (["--seed", "3", "problems", "-n", "2"], "--seed", "problems"),
    (["--out", "somewhere", "env"], "--out", "env"),
])
def test_main_job_option_before_a_command_is_refused(tmp_path: Path, args: list[str], flag: str,
                                                     command: str) -> None:
    line = one_error_line(cli(*args, cwd=tmp_path))
    assert flag in line and repr(command) in line
    assert not any(tmp_path.iterdir())


def test_command_options_after_the_command_still_work() -> None:
    done = cli("problems", "-n", "2", "--seed", "3")
    assert done.returncode == 0, done.stderr


MISSING_TRAIN_EXTRA = """
import sys
for name in ("torch", "transformers", "trl", "peft"):
    sys.modules[name] = None  # as if the train extra were not installed
from cogbeh.cli.main import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("args", [
    ["train", "sft", "--data", "run", "--model", "m", "--out", "o"],
    ["train", "rl", "--model", "m", "--problems", "paper", "-n", "2", "--out", "o"],
    ["train", "tiny-model", "--out", "o"],
    ["eval", "--model", "m", "--problems", "paper", "-n", "2", "--out", "o"],
])
def test_train_commands_without_the_extra_say_how_to_install_it(tmp_path: Path, args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", MISSING_TRAIN_EXTRA, *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env={**os.environ, **OFFLINE})
    line = one_error_line(done)
    assert "install the train extra: pip install 'cogbeh-gen[train]'" in line


def test_export_verl_does_not_need_the_train_extra(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", MISSING_TRAIN_EXTRA, "export", "verl", "--problems", "paper",
                           "-n", "3", "--out", "v.parquet"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr


# --- Ctrl-C ------------------------------------------------------------------------------------------------

def _interrupt_when(out: Path, args: list[str], *, lines: int) -> subprocess.CompletedProcess[str]:
    """Start the main job in its own process group, press Ctrl-C once `lines` records are on disk."""
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, env={**os.environ, **OFFLINE},
                               # a terminal's Ctrl-C handler, even when the test runner ignores SIGINT
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    records = out / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if records.exists() and records.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before Ctrl-C; raise -n"
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise AssertionError("Ctrl-C did not stop the run within 60 s") from None
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.slow
def test_ctrl_c_says_how_many_records_were_saved_and_how_to_finish(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["-b", "backtracking", "-n", "3000", "--workers", "2", "--out", str(out), "--overwrite"]
    done = _interrupt_when(out, args, lines=40)
    assert done.returncode == 130, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    saved = len((out / "records.jsonl").read_text().splitlines())
    assert last.startswith(f"cogbeh-gen: interrupted: {saved}/3000 records saved in {out / 'records.jsonl'}")
    assert "Traceback" not in done.stderr and 0 < saved < 3000
    command = last.split("finish with: ", 1)[1]
    again = shlex.split(command)
    assert again[0] == "cogbeh-gen" and "--resume" in again and "--overwrite" not in again
    finished = cli(*again[1:], "-q", timeout=300)
    assert finished.returncode == 0, finished.stderr
    rows = jsonl(out / "records.jsonl")
    assert len(rows) == 3000 and len({r["index"] for r in rows}) == 3000


# --- --control, repeated, and checks before any generation ----------------------------------------------

def test_repeated_control_derives_each(tmp_path: Path) -> None:
    out = tmp_path / "o"
    done = cli("-b", "all", "-n", "12", "--control", "empty_cot", "--control", "shuffled_steps",
               "--control", "dots", "--control", "length_matched", "--tokenizer", "test", "--out", str(out),
               "-q")
    assert done.returncode == 0, done.stderr
    names = ["empty_cot", "shuffled_steps", "length_matched"]  # dots is length_matched: derived once
    assert done.stdout.split() == [str(out / name / "records.jsonl") for name in names]
    source = jsonl(out / "records.jsonl")
    for name in names:
        rows = jsonl(out / name / "records.jsonl")
        assert [r["problem_id"] for r in rows] == [r["problem_id"] for r in source]
        assert {r["control"] for r in rows} == {name}


@pytest.mark.parametrize(("args", "mentions"), [
    (["--control", "bogus"], "control"),
    (["--control", "empty_cot", "--control", "length_matched"], "--tokenizer"),
    (["--control", "empty_cot", "--tokenizer", "test"], "--tokenizer"),
    (["--control", "dots", "--tokenizer", "./missing/tok"], "no such file"),
    (["--control", "empty_cot", "--control", "incorrect_only"], "incorrect_only"),
    (["--format", "csv"], "--format"),
    (["--format", "trl", "--test-size", "abc"], "test"),
    (["--test-size", "5"], "--format"),
])
def test_control_and_format_problems_stop_a_huge_run_before_it_starts(tmp_path: Path, args: list[str],
                                                                      mentions: str) -> None:
    began = time.monotonic()
    line = one_error_line(cli("-b", "all", "-n", "1000000", *args, "--out", str(tmp_path / "never")))
    assert mentions.lower() in line.lower()
    assert time.monotonic() - began < 30 and not (tmp_path / "never").exists()


@pytest.mark.parametrize("size", ["50", "80", "0.999"])
def test_a_test_split_that_leaves_no_training_problems_is_refused_up_front(tmp_path: Path, size: str) -> None:
    line = one_error_line(cli("-b", "all", "-n", "50", "--format", "trl", "--test-size", size,
                              "--out", str(tmp_path / "never")))
    assert "--test-size" in line and not (tmp_path / "never").exists()


# --- run folders that load like Hub datasets ------------------------------------------------------------

def _load(folder: Path) -> object:
    from datasets import load_dataset

    from cogbeh.formats import quiet_datasets

    with quiet_datasets():
        return load_dataset(str(folder), cache_dir=str(folder.parent / ".hf-cache"))


def test_run_folder_and_control_folder_load_with_load_dataset(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = cli("-b", "all", "-n", "30", "--control", "empty_cot", "--format", "parquet", "--out", str(out),
               "-q")
    assert done.returncode == 0, done.stderr
    assert jsonl(out / "rejected.jsonl"), "this seed rejects some candidates: the test needs rejected lines"
    for folder in (out, out / "empty_cot"):
        loaded = _load(folder)
        assert list(loaded) == ["train"]
        assert loaded["train"].to_list() == jsonl(folder / "records.jsonl")  # exactly the records, in order
    card = (out / "README.md").read_text()
    assert "path: records.jsonl" in card and "rejected" not in card.split("\n---", 1)[0]


def test_without_the_card_rejected_lines_break_loading(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli("-b", "all", "-n", "30", "--out", str(out), "-q").returncode == 0
    (out / "README.md").unlink()
    with pytest.raises(Exception):  # noqa: B017 - datasets raises its own generation error for mixed schemas
        _load(out)


def test_a_readme_we_did_not_write_is_left_alone(tmp_path: Path) -> None:
    from cogbeh.hub import write_run_card
    from cogbeh.records import read_records

    out = tmp_path / "run"
    assert cli("-b", "none", "-n", "5", "--out", str(out), "-q").returncode == 0
    records = list(read_records(out / "records.jsonl"))
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "README.md").write_text("# my notes about cogbeh-gen\n")
    write_run_card(out, manifest, records)
    assert (out / "README.md").read_text() == "# my notes about cogbeh-gen\n"
    (out / "README.md").unlink()
    write_run_card(out, manifest, records)
    first = (out / "README.md").read_text()
    write_run_card(out, manifest, records)  # ours is rewritten, byte for byte the same
    assert (out / "README.md").read_text() == first and "config_name: none" in first


def test_llm_run_folder_loads_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "llm"))
    from fake_server import FakeServer
    from llm_helpers import MODELS

    from cogbeh.cli.main import main

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    out = tmp_path / "llm"
    with FakeServer() as server, pytest.raises(SystemExit) as done:
        main(["-b", "none", "-n", "4", "--provider", "anthropic", "--model", MODELS["anthropic"],
              "--base-url", server.url, "--out", str(out), "-q"])
    assert done.value.code == 0
    assert _load(out)["train"].to_list() == jsonl(out / "records.jsonl")


def _trl_command() -> list[str]:
    script = Path(sys.executable).parent / "trl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trl.cli.main"]


@pytest.mark.slow
def test_trl_sft_trains_on_a_run_folder_by_name(tmp_path: Path) -> None:
    from cogbeh.train.tiny import build_tiny_model

    run = tmp_path / "run"
    assert cli("-b", "all", "-n", "16", "--out", str(run), "-q").returncode == 0
    model = build_tiny_model(tmp_path / "tiny")
    done = subprocess.run(
        [*_trl_command(), "sft", "--dataset_name", str(run), "--model_name_or_path", str(model),
         "--max_steps", "1", "--per_device_train_batch_size", "2", "--max_length", "256",
         "--output_dir", str(tmp_path / "sft"), "--report_to", "none", "--save_strategy", "no",
         "--use_cpu", "true", "--bf16", "false", "--logging_steps", "1", "--dataloader_num_workers", "0"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, **OFFLINE, "HF_DATASETS_CACHE": str(tmp_path / ".hf-cache"),
             "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": ""},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'loss'" in done.stdout + done.stderr and (tmp_path / "sft" / "model.safetensors").exists()
    shutil.rmtree(tmp_path / "sft")
