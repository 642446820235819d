"""SFT (LoRA and full), GRPO and evaluation on a tiny random model, offline on CPU: mechanics, no accuracy."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from cogbeh.countdown import countdown_reward, load_problems, sample_problems
from cogbeh.paths import generators_dir

pytestmark = pytest.mark.slow
SFT_CPU = generators_dir() / "train" / "sft_cpu.yaml"
GRPO_CPU = generators_dir() / "train" / "grpo_cpu.yaml"


def _weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.fixture(scope="module")
def sft_lora(tiny_model: Path, priming_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from cogbeh.train.sft import train_sft

    return train_sft(
        priming_dir, str(tiny_model), tmp_path_factory.mktemp("sft") / "lora", config=SFT_CPU, max_steps=4
    )


@pytest.fixture(scope="module")
def grpo_run(sft_lora, tmp_path_factory: pytest.TempPathFactory):
    from cogbeh.train.rl import train_rl

    calls: list[dict[str, Any]] = []

    def recording_reward(completions: list[Any], **kwargs: Any) -> list[float]:
        calls.append(kwargs)
        base = countdown_reward(completions, **kwargs)
        # A length term gives each group some spread, so advantages (and gradients) are non-zero.
        return [b + 0.01 * len(str(c)) for b, c in zip(base, completions, strict=True)]

    priming = load_problems(sft_lora.out / "priming_problems.jsonl")
    problems = sample_problems(8, preset="tinyzero", seed=7, exclude=priming)
    out = tmp_path_factory.mktemp("rl") / "policy"
    result = train_rl(
        str(sft_lora.out), problems, out, config=GRPO_CPU, max_steps=2, reward_funcs=[recording_reward]
    )
    return result, calls, problems


def test_lora_sft_trains_saves_the_adapter_and_a_reloadable_merged_model(sft_lora, tiny_model: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    losses = [entry["loss"] for entry in sft_lora.log_history if "loss" in entry]
    assert losses and all(math.isfinite(loss) for loss in losses)
    assert (sft_lora.adapter / "adapter_config.json").is_file()
    assert (sft_lora.adapter / "adapter_model.safetensors").is_file()
    merged = AutoModelForCausalLM.from_pretrained(sft_lora.out)
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert all(p.requires_grad for p in merged.parameters())
    before, after = _weights(tiny_model), _weights(sft_lora.out)
    changed = [k for k in before if k in after and not before[k].equal(after[k])]
    assert changed, "merging the adapter should change the base weights"
    tokenizer = AutoTokenizer.from_pretrained(sft_lora.out)
    assert tokenizer.chat_template and tokenizer.eos_token == "<|endoftext|>"
    info = json.loads((sft_lora.out / "cogbeh_train.json").read_text())
    assert info["kind"] == "sft" and info["lora"] is True and info["rows"] == 48
    assert len(load_problems(sft_lora.out / "priming_problems.jsonl")) == 48


def test_full_fine_tuning_warm_up_lowers_the_loss(tiny_model: Path, tmp_path: Path, make_run_folder) -> None:
    from cogbeh.train.sft import train_sft

    make_run_folder(tmp_path / "data", 8)
    result = train_sft(
        tmp_path / "data",
        str(tiny_model),
        tmp_path / "full",
        lora=False,
        config=SFT_CPU,
        max_steps=10,
        overrides={"learning_rate": 3e-3, "num_train_epochs": 10},
    )
    losses = [entry["loss"] for entry in result.log_history if "loss" in entry]
    assert result.adapter is None and (tmp_path / "full" / "model.safetensors").is_file()
    assert len(losses) == 10 and losses[-1] < losses[0] - 0.5, losses


def test_grpo_passes_nums_and_target_to_the_reward_and_updates_the_policy(grpo_run, sft_lora) -> None:
    result, calls, problems = grpo_run
    assert calls
    first = calls[0]
    assert {"nums", "target", "prompts", "completion_ids", "trainer_state"} <= set(first)
    by_target = {(tuple(p.nums), p.target) for p in problems}
    assert all((tuple(n), t) in by_target for n, t in zip(first["nums"], first["target"], strict=True))
    before, after = _weights(sft_lora.out), _weights(result.out)
    assert any(not before[k].equal(after[k]) for k in before), "GRPO should change the parameters"
    assert (result.out / "checkpoint-2").is_dir()
    assert (result.out / "priming_problems.jsonl").is_file()  # carried forward for the next stage's check


def test_eval_writes_tables_and_plot_for_each_checkpoint(grpo_run, sft_lora, tmp_path: Path) -> None:
    from cogbeh.train.evaluate import evaluate

    result, _, _ = grpo_run
    problems = sample_problems(4, preset="tinyzero", seed=99)
    report = evaluate(
        str(sft_lora.out), problems, tmp_path / "eval", checkpoints=result.out, max_new_tokens=12
    )
    assert [row["step"] for row in report.rows] == [0, 2]
    assert report.csv.read_text().splitlines()[0].startswith("step,checkpoint,n,accuracy")
    assert json.loads(report.json.read_text())["rows"][1]["step"] == 2
    assert report.plot.stat().st_size > 10_000
    samples = (tmp_path / "eval" / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 8 and {"reward", "verification", "completion"} <= set(json.loads(samples[0]))


def test_gpu_check_script_runs_in_tiny_mode(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"
    done = subprocess.run(
        [sys.executable, str(script), "--tiny", "--json", str(tmp_path / "figures.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["sft_tokens_per_s"] > 0 and figures["grpo_s_per_step"] > 0 and figures["grpo_steps"] == 2
