"""GPU check (issue 6, item 7): LoRA SFT (bf16) and 10 GRPO steps on a random ~0.5B Qwen2, our tokenizer.

Prints SFT tokens/s and GRPO seconds/step, using the shipped GPU configs (generators/train/sft_lora.yaml,
grpo.yaml) with only the step counts and batch shapes overridden. `--tiny` runs the same pipeline on CPU with
the tiny model in seconds (that is how the tests keep this script working).
Usage: python benchmarks/gpu_check.py [--tiny] [--json FILE] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: Per-mode knobs: model size, priming rows, SFT steps and batch, GRPO shape and completion length.
PLANS = {
    "gpu": {
        "size": "0.5b",
        "rows": 512,
        "sft_steps": 40,
        "sft_batch": 16,
        "grpo_steps": 10,
        "grpo_batch": 32,
        "generations": 8,
        "completion": 256,
    },
    "tiny": {
        "size": "tiny",
        "rows": 24,
        "sft_steps": 3,
        "sft_batch": 8,
        "grpo_steps": 2,
        "grpo_batch": 8,
        "generations": 4,
        "completion": 16,
    },
}


def priming_data(folder: Path, rows: int) -> Path:
    """Symbolic priming traces from the main job (all four behaviors), exactly as a user would make them."""
    command = [
        sys.executable,
        "-m",
        "cogbeh.cli.main",
        "--behavior",
        "all",
        "-n",
        str(rows),
        "--out",
        str(folder),
        "-q",
        "--overwrite",
    ]
    subprocess.run(command, check=True)
    return folder


def run(plan: dict, workdir: Path) -> dict:
    """Build the model, prime it with LoRA SFT, run GRPO; return the measured figures."""
    import torch

    from cogbeh.countdown import load_problems, sample_problems
    from cogbeh.train.rl import train_rl
    from cogbeh.train.sft import train_sft
    from cogbeh.train.tiny import build_tiny_model

    started = time.perf_counter()
    model = build_tiny_model(workdir / "base", size=plan["size"])
    params = _count(model)
    data = priming_data(workdir / "priming", plan["rows"])
    sft = train_sft(
        data,
        str(model),
        workdir / "sft",
        lora=True,
        max_steps=plan["sft_steps"],
        overrides={
            "per_device_train_batch_size": plan["sft_batch"],
            "gradient_accumulation_steps": 1,
            "logging_steps": 1,
            "save_strategy": "no",
            "max_length": 1024,
        },
    )
    tokens = max((e.get("num_tokens", 0) for e in sft.log_history), default=0)
    priming = load_problems(sft.out / "priming_problems.jsonl")
    problems = sample_problems(
        plan["grpo_steps"] * plan["grpo_batch"], preset="tinyzero", seed=1, exclude=priming
    )
    rl = train_rl(
        str(sft.out),
        problems,
        workdir / "rl",
        max_steps=plan["grpo_steps"],
        overrides={
            "per_device_train_batch_size": plan["grpo_batch"],
            "gradient_accumulation_steps": 1,
            "num_generations": plan["generations"],
            "max_completion_length": plan["completion"],
            "save_strategy": "no",
            "logging_steps": 1,
        },
    )
    return {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "params_m": round(params / 1e6, 1),
        "sft_steps": plan["sft_steps"],
        "sft_tokens_per_s": round(tokens / sft.metrics["train_runtime"], 1),
        "grpo_steps": plan["grpo_steps"],
        "grpo_completions_per_step": plan["grpo_batch"],
        "grpo_max_completion_tokens": plan["completion"],
        "grpo_s_per_step": round(rl.metrics["train_runtime"] / plan["grpo_steps"], 3),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def _count(model_dir: Path) -> int:
    """Parameters stored in the model folder (tied embeddings counted once, as stored)."""
    import math

    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as handle:
        return sum(math.prod(handle.get_slice(key).get_shape()) for key in handle.keys())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU-sized run with the tiny model (seconds).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Keep the models here (default: a temp dir)."
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        figures = run(PLANS["tiny" if options.tiny else "gpu"], options.workdir or Path(scratch))
    for key, value in figures.items():
        print(f"{key:<28}{value}")
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
