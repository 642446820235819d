"""`cogbeh-gen curate classify` as a user runs it: a local rules run, the LLM judge against the fake server,
dry runs that print the executor configuration and write nothing, and bad input as one line with exit 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from llm_helpers import MODELS, base_url

from cogbeh.cli.main import main

TEXTS = ["Solve 2x = 4? First, divide by 2. Wait, that is wrong; let me try again. Check: 2*2 = 4.",
         "The integers form a ring.",
         "A MALFORMED page that confuses the judge."]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": TEXTS[i % 3], "url": f"u{i}"}) + "\n"
                            for i in range(30)), encoding="utf-8")
    return path


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((out / "labelled").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def test_rules_run_prints_the_folder_and_a_summary(corpus: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run(["curate", "classify", str(corpus), "--out", str(out), "--docs-per-shard", "8",
                                "--workers", "1"], capsys)
    assert code == 0 and stdout.strip() == str(out)
    assert "labelled 30 documents with rules" in stderr and f"{out}/labelled/*.jsonl (4 tasks" in stderr
    labelled = rows(out)
    assert sorted(r["id"] for r in labelled) == sorted(f"d{i}" for i in range(30))
    assert {r["judge"] for r in labelled} == {"rules"} and labelled[0]["url"].startswith("u")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["documents"] == 30 and manifest["behaviors"]["backtracking"] == 10
    assert manifest["tokenizer"] == {"source": "test", "approximate": True} and manifest["truncate"] == 3072
    assert Path(manifest["stats"]).is_file()
    job = json.loads((out / "job.json").read_text())
    assert (job["judge"], job["tasks"], job["text_column"]) == ("rules", 4, "text")


def test_llm_judge_through_an_openai_compatible_server(corpus: Path, tmp_path: Path, server_factory,
                                                       fake_judge, capsys: pytest.CaptureFixture[str]) -> None:
    server = server_factory(answer=fake_judge)
    out = tmp_path / "run"
    code, _, stderr = run(["curate", "classify", str(corpus), "--out", str(out), "--judge",
                           f"openai:{MODELS['openai']}", "--base-url", base_url(server, "openai"),
                           "--prompts", "combined", "--limit", "6", "--workers", "1"], capsys)
    assert code == 0, stderr
    labelled = {r["id"]: r for r in rows(out)}
    assert len(labelled) == 6 and labelled["d0"]["subgoal_setting_count"] == 3
    assert labelled["d2"]["label_error"] and labelled["d2"]["backtracking_count"] is None
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["errors"], manifest["prompts"], manifest["documents"]) == (2, "combined", 6)
    key = os.environ["OPENAI_API_KEY"]  # the canary: in no file of the run (job, manifest, cache, logs)
    assert key and not [p for p in out.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert key not in stderr


def test_slurm_dry_run_prints_the_executor_config_and_writes_nothing(corpus: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    code, stdout, _ = run(["curate", "classify", str(corpus), "--out", str(out), "--executor", "slurm",
                           "--partition", "cpu", "--time", "04:00:00", "--cpus-per-task", "2",
                           "--venv-path", "/opt/venv", "--slurm-arg", "account=proj", "--slurm-arg", "qos=low",
                           "--docs-per-shard", "7", "--dry-run"], capsys)
    assert code == 0 and not out.exists()
    plan = json.loads(stdout)
    assert plan["class"] == "datatrove.executor.SlurmPipelineExecutor" and plan["shards"] == 5
    assert plan["arguments"] == {"tasks": 5, "logging_dir": str(out / "logs"), "skip_completed": True,
                                 "cpus_per_task": 2, "partition": "cpu", "time": "04:00:00",
                                 "job_name": "cogbeh_classify", "venv_path": "/opt/venv",
                                 "sbatch_args": {"account": "proj", "qos": "low"}, "requeue": True}


def test_ray_and_llm_dry_runs(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    code, stdout, _ = run(["curate", "classify", str(corpus), "--out", str(out), "--executor", "ray",
                           "--workers", "3", "--tasks", "6", "--cpus-per-task", "4", "--dry-run"], capsys)
    plan = json.loads(stdout)
    assert code == 0 and plan["class"] == "datatrove.executor.RayPipelineExecutor"
    assert plan["arguments"] == {"tasks": 6, "logging_dir": str(out / "logs"), "skip_completed": True,
                                 "workers": 3, "cpus_per_task": 4}
    code, stdout, _ = run(["curate", "classify", str(corpus), "--out", str(out), "--judge", "openai:gpt-4o-mini",
                           "--dry-run"], capsys)
    plan = json.loads(stdout)
    assert code == 0 and plan["estimate_documents"] == 30 and plan["estimate"]["documents"] == 30
    assert "===== DOCUMENT START =====\n" + TEXTS[0] in plan["prompt"] and not out.exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["missing.jsonl"], "missing.jsonl: no such file or folder"),
    (["CORPUS", "--text-column", "body"], "no text column 'body' in corpus.jsonl row 0; columns: id, text, url"),
    (["CORPUS", "--judge", "gpt4"], "--judge takes rules, fasttext:PATH or PROVIDER:MODEL"),
    (["CORPUS", "--judge", "anthropic:claude-x"], "set ANTHROPIC_API_KEY in the environment"),
    (["CORPUS", "--executor", "slurm"], "--executor slurm needs --partition and --time"),
    (["CORPUS", "--partition", "cpu"], "--partition is for --executor slurm, not local"),
    (["CORPUS", "--executor", "slurm", "--partition", "p", "--time", "1:00:00", "--slurm-arg", "x"],
     "--slurm-arg takes KEY=VALUE"),
    (["CORPUS", "--tokenizer", "./no/such/tokenizer.json"], "no such file or folder"),
])
def test_bad_input_is_one_line_and_exit_2(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    args = [str(corpus) if a == "CORPUS" else a for a in extra]
    code, stdout, stderr = run(["curate", "classify", *args, "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and stdout == "" and len(stderr.strip().splitlines()) == 1, stderr
    assert message in stderr and not (tmp_path / "out").exists()
