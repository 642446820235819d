"""GPU check (issue 10, item 7): the real configs' code paths on one GPU, with a small model built locally.

Stages, each in a fresh process on a GPU so its memory peak is its own: SFT (bf16, the shipped config), GRPO (bf16,
vLLM generation when vLLM is installed), eval on the device (vLLM when installed, else transformers, T=1.0)
of the primed model and the RL run. Per stage it prints seconds, tokens/s and peak memory: torch's peak
allocation and the device-wide peak (which includes what vLLM reserves). Sized to finish within 8 minutes.
With no CUDA GPU it says so, runs the same stages as a CPU smoke pass with the tiny model, and exits 0.
Usage: python benchmarks/gpu_check.py [--tiny] [--size medium|0.5b] [--json FILE] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "generators" / "train"
BUDGET_S = 480
STAGES = ("sft", "grpo", "eval")

#: Per-mode knobs: model size, priming rows, SFT steps and batch, GRPO shape, completion length, eval size.
PLANS = {
    "gpu": {
        "size": "medium",
        "rows": 512,
        "sft_steps": 20,
        "sft_batch": 16,
        "grpo_steps": 5,
        "grpo_batch": 64,
        "generations": 4,
        "completion": 256,
        "eval_problems": 128,
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
        "eval_problems": 4,
    },
}


class MemoryWatch:
    """Torch's peak allocation, and the device-wide peak in use sampled every 0.1 s (catches vLLM's pool)."""

    def __init__(self) -> None:
        import torch

        self.cuda = torch.cuda.is_available()
        self.device_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import torch

        while not self._stop.wait(0.1):
            free, total = torch.cuda.mem_get_info()
            self.device_peak = max(self.device_peak, total - free)

    def __enter__(self) -> MemoryWatch:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def figures(self) -> dict:
        if not self.cuda:
            return {"torch_peak_gb": None, "device_peak_gb": None}
        import torch

        return {
            "torch_peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "device_peak_gb": round(self.device_peak / 2**30, 2),
        }


def prepare(plan: dict, workdir: Path) -> None:
    """The base model (built locally, no download) and symbolic priming traces (all four behaviors)."""
    from cogbeh.train.tiny import build_tiny_model

    build_tiny_model(workdir / "base", size=plan["size"])
    command = [sys.executable, "-m", "cogbeh.cli.main", "--behavior", "all", "-n", str(plan["rows"])]
    command += ["--out", str(workdir / "priming"), "-q", "--overwrite"]
    subprocess.run(command, check=True)


def stage_sft(plan: dict, workdir: Path) -> dict:
    from cogbeh.train.sft import train_sft

    config = CONFIGS / "sft_paper.yaml"
    result = train_sft(
        workdir / "priming",
        str(workdir / "base"),
        workdir / "sft",
        lora=False,  # the paper's SFT is a full fine-tune (use_peft: false)
        config=config,
        max_steps=plan["sft_steps"],
        overrides={
            "per_device_train_batch_size": plan["sft_batch"],
            "gradient_accumulation_steps": 1,
            "logging_steps": 1,
            "save_strategy": "no",
            "max_length": 1024,
        },
    )
    runtime = result.metrics["train_runtime"]
    tokens = max((e.get("num_tokens", 0) for e in result.log_history), default=0)
    return {
        "config": config.name,
        "steps": plan["sft_steps"],
        "seconds": round(runtime, 1),
        "tokens_per_s": round(tokens / runtime, 1),
    }


def stage_grpo(plan: dict, workdir: Path) -> dict:
    from cogbeh.countdown import load_problems, sample_problems
    from cogbeh.train.config import vllm_usable
    from cogbeh.train.rl import train_rl

    config = CONFIGS / "grpo_paper.yaml"
    priming = load_problems(workdir / "sft" / "priming_problems.jsonl")
    prompts = plan["grpo_steps"] * plan["grpo_batch"] // plan["generations"]
    problems = sample_problems(prompts, preset="tinyzero", seed=1, exclude=priming)
    use_vllm = vllm_usable()
    result = train_rl(
        str(workdir / "sft"),
        problems,
        workdir / "rl",
        config=config,
        max_steps=plan["grpo_steps"],
        overrides={
            "per_device_train_batch_size": plan["grpo_batch"],
            "gradient_accumulation_steps": 1,
            "num_generations": plan["generations"],
            "max_completion_length": plan["completion"],
            "save_strategy": "no",
            "logging_steps": 1,
            "use_vllm": use_vllm,
            **({"vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.3} if use_vllm else {}),
        },
    )
    runtime = result.metrics["train_runtime"]
    generated = sum(
        e.get("completions/mean_length", 0) * plan["grpo_batch"] for e in result.log_history if "loss" in e
    )
    return {
        "config": config.name,
        "vllm": use_vllm,
        "steps": plan["grpo_steps"],
        "completions_per_step": plan["grpo_batch"],
        "max_completion_tokens": plan["completion"],
        "seconds": round(runtime, 1),
        "s_per_step": round(runtime / plan["grpo_steps"], 3),
        "generated_tokens_per_s": round(generated / runtime, 1),
    }


def stage_eval(plan: dict, workdir: Path) -> dict:
    from transformers import AutoTokenizer

    from cogbeh.countdown import sample_problems
    from cogbeh.runfiles import json_rows
    from cogbeh.train.evaluate import evaluate

    notes: list[str] = []
    problems = sample_problems(plan["eval_problems"], preset="tinyzero", seed=7)  # offline: no Hub download
    started = time.perf_counter()
    result = evaluate(
        str(workdir / "sft"),
        problems,
        workdir / "eval",
        checkpoints=workdir / "rl",  # the primed model at step 0 and the RL run's final policy
        max_new_tokens=plan["completion"],
        batch_size=64,
        notify=notes.append,
    )
    seconds = time.perf_counter() - started
    tokenizer = AutoTokenizer.from_pretrained(workdir / "sft")
    samples = json_rows(workdir / "eval" / "samples.jsonl")
    generated = sum(len(tokenizer(sample["completion"])["input_ids"]) for _, sample in samples)
    row = result.rows[0]
    return {
        "engine": row["engine"],
        "device": row["device"],
        "temperature": row["temperature"],
        "checkpoints": len(result.rows),
        "problems": len(problems),
        "seconds": round(seconds, 1),
        "generated_tokens_per_s": round(generated / seconds, 1),
        "notes": notes,
    }


def run_stage(name: str, plan: dict, workdir: Path) -> dict:
    """One stage in this process, with its memory watched."""
    import torch

    if torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
    with MemoryWatch() as watch:
        figures = {"sft": stage_sft, "grpo": stage_grpo, "eval": stage_eval}[name](plan, workdir)
    return {**figures, **watch.figures()}


def run(plan: dict, workdir: Path) -> dict:
    """Prepare, then each stage in a fresh process; the figures of all stages."""
    import torch

    started = time.perf_counter()
    cuda = torch.cuda.is_available()
    prepare(plan, workdir)
    (workdir / "plan.json").write_text(json.dumps(plan) + "\n", encoding="utf-8")
    figures: dict = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "model_size": plan["size"],
        "params_m": round(_count(workdir / "base") / 1e6, 1),
    }
    for name in STAGES:
        if not cuda:  # CPU smoke pass: no memory to isolate, so no process start-ups to pay for
            figures[name] = run_stage(name, plan, workdir)
            continue
        out = workdir / f"{name}.figures.json"
        command = [sys.executable, __file__, "--stage", name, "--workdir", str(workdir)]
        command += ["--stage-out", str(out)]
        subprocess.run(command, check=True)
        figures[name] = json.loads(out.read_text(encoding="utf-8"))
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    # Flat names kept for scripts that read earlier versions of this file.
    figures.update(
        sft_tokens_per_s=figures["sft"]["tokens_per_s"],
        grpo_steps=figures["grpo"]["steps"],
        grpo_s_per_step=figures["grpo"]["s_per_step"],
    )
    return figures


def _count(model_dir: Path) -> int:
    """Parameters stored in the model folder (tied embeddings counted once, as stored)."""
    import math

    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as handle:
        return sum(math.prod(handle.get_slice(key).get_shape()) for key in handle.keys())


def report(figures: dict) -> None:
    print(f"device {figures['device']}, model {figures['model_size']} ({figures['params_m']}M parameters)")
    print(f"{'stage':<6}{'seconds':>9}{'tokens/s':>11}{'torch peak GB':>15}{'device peak GB':>16}  details")
    for name in STAGES:
        stage = figures[name]
        rate = stage.get("tokens_per_s", stage.get("generated_tokens_per_s"))
        shown = ("seconds", "tokens_per_s", "generated_tokens_per_s", "torch_peak_gb", "device_peak_gb")
        details = {k: v for k, v in stage.items() if k not in shown}
        print(f"{name:<6}{stage['seconds']:>9}{rate:>11}{str(stage['torch_peak_gb']):>15}"
              f"{str(stage['device_peak_gb']):>16}  {json.dumps(details)}")
    print(f"wall {figures['wall_s']} s (budget {BUDGET_S} s)")
    if figures["device"] != "cpu" and figures["wall_s"] > BUDGET_S:
        print(f"warning: over the {BUDGET_S} s budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU-sized run with the tiny model (seconds).")
    parser.add_argument("--size", default=None, help="Model size from cogbeh.train.tiny.SIZES (GPU: medium).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures to this file.")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Keep the models here (default: a temp dir)."
    )
    parser.add_argument("--stage", choices=STAGES, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stage-out", type=Path, default=None, help=argparse.SUPPRESS)
    options = parser.parse_args()

    import torch

    tiny = options.tiny or not torch.cuda.is_available()
    plan = dict(PLANS["tiny" if tiny else "gpu"])
    if options.size and not tiny:
        plan["size"] = options.size
    if options.stage:  # a child process: one stage of the parent's plan, figures to --stage-out
        plan = json.loads((options.workdir / "plan.json").read_text(encoding="utf-8"))
        figures = run_stage(options.stage, plan, options.workdir)
        options.stage_out.write_text(json.dumps(figures) + "\n", encoding="utf-8")
        return
    if not torch.cuda.is_available() and not options.tiny:
        print("No CUDA GPU visible: CPU smoke pass with the tiny model (no GPU figures).", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        figures = run(plan, options.workdir or Path(scratch))
    report(figures)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
