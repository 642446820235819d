"""One prompt format for every stage (issue 10, item 1) and adapters that load anywhere (item 6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cogbeh.countdown import Problem, sample_problems, save_problems
from cogbeh.formats import export, to_trl_row
from cogbeh.prompting import PromptFormat, PromptMismatch, build_prompt, check_record, write_record
from cogbeh.train.data import load_priming, rl_rows
from cogbeh.train.rl import drop_overlap, train_rl
from cogbeh.train.verl import export_verl


def _cli(*args: str):  # -> click.testing.Result
    from cogbeh.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_sft_rl_eval_and_verl_share_one_prompt_text_by_default(tmp_path: Path, make_run_folder) -> None:
    import pyarrow.parquet as pq

    record = make_run_folder(tmp_path / "run", 1)[0]
    problem = Problem(tuple(record.nums), record.target)
    text = build_prompt(problem)
    assert isinstance(text, str) and text.startswith("A conversation between User and Assistant")
    assert text.endswith("Let me solve this step by step.\n<think>")

    sft = load_priming(tmp_path / "run").rows[0]
    trl = to_trl_row(record)
    rl = rl_rows([problem])[0]
    from cogbeh.train.evaluate import rl_prompt  # what eval renders for each problem

    verl_path = export_verl([problem], tmp_path / "verl" / "train.parquet")
    verl = pq.read_table(verl_path).to_pylist()[0]
    assert sft["prompt"] == trl["prompt"] == rl["prompt"] == rl_prompt(problem) == text
    assert verl["prompt"] == [{"role": "user", "content": text}]
    # the completion continues after the prompt's <think>: one think tag, the paper's text
    assert not sft["completion"].lstrip().startswith("<think>")
    assert "<think>" not in sft["completion"] and record.completion.count("<think>") == 1
    assert sft["prompt"] + sft["completion"] == text + record.completion[len("<think>"):]
    recorded = json.loads((tmp_path / "verl" / "train.prompt.json").read_text())
    assert recorded == PromptFormat().to_json() and recorded["style"] == "tinyzero"


def test_trl_format_writer_uses_the_shared_prompt(tmp_path: Path, make_run_folder) -> None:
    import pyarrow.parquet as pq

    records = make_run_folder(tmp_path / "run", 4)
    summary = export(tmp_path / "out", records, ["trl"])
    rows = pq.read_table(tmp_path / "out" / "trl" / "train.parquet").to_pylist()
    assert [r["prompt"] for r in rows] == [build_prompt(Problem(tuple(r.nums), r.target)) for r in records]
    assert summary["prompt"]["style"] == "tinyzero"
    chat = export(tmp_path / "chat", records, ["trl"], prompt_style="chat")
    first = pq.read_table(tmp_path / "chat" / "trl" / "train.parquet").to_pylist()[0]
    assert first["prompt"] == [{"role": "user", "content": records[0].prompt}] and chat["prompt"]["style"] == "chat"


def test_a_custom_template_replaces_the_prompt_and_its_hash(tmp_path: Path) -> None:
    template = tmp_path / "mine.jinja"
    template.write_text("Q: reach {{ target }} from {{ nums | join(' ') }}\nA: <think>", encoding="utf-8")
    fmt = PromptFormat(template=template)
    assert build_prompt(Problem((1, 2, 3), 6), fmt) == "Q: reach 6 from 1 2 3\nA: <think>"
    assert fmt.sha256 != PromptFormat().sha256 and fmt.to_json()["template"] == str(template.resolve())


def test_a_later_stage_refuses_another_format_unless_told(tmp_path: Path) -> None:
    write_record(tmp_path, "chat")
    check_record(tmp_path, "chat")
    check_record(tmp_path, "tinyzero", explicit=True)
    check_record(tmp_path / "elsewhere", "tinyzero")  # nothing recorded: nothing to enforce
    with pytest.raises(PromptMismatch, match=r"trained with chat .* this run uses tinyzero"):
        check_record(tmp_path, "tinyzero")


def test_cli_refuses_a_mismatch_with_one_line_naming_both(tmp_path: Path, tiny_model: Path) -> None:
    model = tmp_path / "sft"
    model.mkdir()
    write_record(model, "chat")  # as `train sft --prompt-style chat` leaves it
    for args in (
        ["train", "rl", "--model", str(model), "--problems", "paper", "-n", "4", "--out", str(tmp_path / "rl")],
        ["eval", "--model", str(model), "--problems", "paper", "-n", "2", "--out", str(tmp_path / "ev")],
    ):
        result = _cli(*args)
        assert result.exit_code == 2, result.output
        line = [x for x in result.output.splitlines() if "mismatch" in x]
        assert len(line) == 1 and "chat" in line[0] and "tinyzero" in line[0] and "--prompt-style" in line[0]
    assert not (tmp_path / "rl").exists()


def test_drop_overlap_drops_and_counts(tmp_path: Path) -> None:
    shared, fresh = Problem((1, 2, 3), 6), Problem((2, 3, 4), 24)
    assert drop_overlap([shared, fresh], [Problem((3, 2, 1), 6)]) == ([fresh], 1)
    with pytest.raises(ValueError, match="all 1 RL problem"):
        drop_overlap([shared], [shared])
    model = tmp_path / "model"
    model.mkdir()
    save_problems([shared], model / "priming_problems.jsonl")
    with pytest.raises(ValueError, match="all 1 RL problem"):  # train_rl drops before anything heavy
        train_rl(str(model), [shared], tmp_path / "rl", drop_overlapping=True)


def test_cli_drop_overlap_says_how_many(tmp_path: Path, make_run_folder) -> None:
    records = make_run_folder(tmp_path / "run", 3)
    problems = tmp_path / "problems.jsonl"
    priming = [Problem(tuple(r.nums), r.target) for r in records]
    fresh = next(p for p in sample_problems(8, preset="paper", seed=99) if p.id not in {q.id for q in priming})
    save_problems([*priming, fresh], problems)
    model = tmp_path / "model"
    model.mkdir()
    common = ["train", "rl", "--model", str(model), "--problems", str(problems), "--out", str(tmp_path / "rl"),
              "--priming-data", str(tmp_path / "run")]
    refused = _cli(*common)
    assert refused.exit_code == 2 and "occur in the priming data" in refused.output
    dropped = _cli(*common, "--drop-overlap")  # said before training; the empty model folder is then refused
    assert "dropped 3 RL problem(s) that occur in the priming data; 1 left" in dropped.output
    assert dropped.exit_code == 2 and "has no config.json or adapter_config.json" in dropped.output
    assert "Traceback" not in dropped.output


def test_eval_and_sft_name_a_model_folder_that_holds_no_model(tmp_path: Path, make_run_folder) -> None:
    make_run_folder(tmp_path / "run", 3)
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (["train", "sft", "--data", str(tmp_path / "run")], ["eval", "--problems", "paper", "-n", "2"]):
        done = _cli(*args, "--model", str(empty), "--out", str(tmp_path / "out"))
        assert done.exit_code == 2, done.output
        assert "has no config.json or adapter_config.json" in done.output and "Traceback" not in done.output


def test_lora_adapter_records_an_absolute_base_and_loads_elsewhere(tmp_path: Path, tiny_model: Path) -> None:
    from types import SimpleNamespace

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cogbeh.train.sft import save_trained

    work = tmp_path / "work"
    work.mkdir()
    (work / "base").symlink_to(tiny_model, target_is_directory=True)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        base = AutoModelForCausalLM.from_pretrained("base")
        peft_model = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
        adapter = save_trained(SimpleNamespace(model=peft_model), AutoTokenizer.from_pretrained("base"),
                               Path("out"), lora=True)
    finally:
        os.chdir(cwd)
    config = json.loads((work / "out" / "adapter" / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model.resolve())  # typed as "base"
    assert adapter is not None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = ("from peft import AutoPeftModelForCausalLM; import sys; "
              "AutoPeftModelForCausalLM.from_pretrained(sys.argv[1]); print('loaded')")
    done = subprocess.run([sys.executable, "-c", script, str(work / "out" / "adapter")], cwd=elsewhere,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr[-2000:]


def test_a_hub_id_base_stays_as_is(tmp_path: Path) -> None:
    from cogbeh.train.sft import absolute_base_path

    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-3B"}))
    absolute_base_path(tmp_path)
    assert json.loads((tmp_path / "adapter_config.json").read_text())["base_model_name_or_path"] == "Qwen/Qwen2.5-3B"
