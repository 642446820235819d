"""The LLM CLI pieces: main-job options (via a stand-in command), dry run, key errors, batch subcommands."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from llm_helpers import CANARY, MODELS

from cogbeh.cli.batch import batch
from cogbeh.cli.llm_job import llm_job_options, run_llm_main_job
from cogbeh.cli.main import main


@click.command()
@click.option("--provider", default="anthropic")
@click.option("--out", type=click.Path(path_type=Path))
@click.option("-n", "count", type=int, default=5)
@click.option("--resume", is_flag=True)
@click.option("--quiet", "-q", is_flag=True)
@llm_job_options
def job_command(out: Path, count: int, **options: object) -> None:
    """Stands in for the lead's root command, which passes the same option names."""
    run_llm_main_job(behaviors=frozenset(), count=count, out=out, options=options)


def _invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(job_command, list(args), standalone_mode=True)


def test_dry_run_needs_no_key_and_opens_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    result = _invoke("--out", str(tmp_path / "run"), "--model", MODELS["anthropic"], "--dry-run",
                     "--base-url", "http://127.0.0.1:9")  # nothing listens there: a connection would fail
    assert result.exit_code == 0, result.output
    assert "## system prompt" in result.output and "low:  $" in result.output
    assert not (tmp_path / "run").exists()


def test_missing_key_exits_2_with_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(Exception) as caught:
        CliRunner().invoke(job_command, ["--provider", "openai", "--out", str(tmp_path / "r"), "--model", "gpt-4o"],
                           standalone_mode=False, catch_exceptions=False)
    assert getattr(caught.value, "exit_code", None) == 2 and "OPENAI_API_KEY" in str(caught.value)
    assert not (tmp_path / "r").exists()


def test_model_is_required(tmp_path):
    result = _invoke("--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "--model" in result.output


def test_run_collect_status_cancel_through_the_cli(server_factory, tmp_path):
    server = server_factory(batch_polls=3)  # the run polls once, status once: still in progress
    out = tmp_path / "run"
    result = _invoke("--out", str(out), "--model", MODELS["anthropic"], "--base-url", server.url, "--batch",
                     "--no-wait", "--poll-interval", "0.01", "-n", "4")
    assert result.exit_code == 0, result.output
    assert "batch collect" in result.output
    status = CliRunner().invoke(batch, ["status", str(out)])
    assert status.exit_code == 0 and "in_progress" in status.output and "pending" in status.output
    collected = CliRunner().invoke(batch, ["collect", str(out), "--wait", "-q"])
    assert collected.exit_code == 0, collected.output
    assert collected.output.strip().endswith("records.jsonl")
    assert len((out / "records.jsonl").read_text().splitlines()) == 4
    assert "collected" in CliRunner().invoke(batch, ["status", str(out)]).output
    assert CliRunner().invoke(batch, ["cancel", str(out)]).exit_code == 0
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or CANARY.encode() not in path.read_bytes()


def test_online_run_prints_summary_with_cost(server_factory, tmp_path):
    server = server_factory()
    result = _invoke("--out", str(tmp_path / "run"), "--model", MODELS["anthropic"], "--base-url", server.url,
                     "--max-cost", "5")
    assert result.exit_code == 0, result.output
    assert "cost" in result.output and "$" in result.output and CANARY not in result.output


def test_batch_group_is_registered_in_the_root_cli(tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["batch", "status", str(tmp_path)])
    assert done.value.code == 2  # an empty folder has no job.json: a one-line error
