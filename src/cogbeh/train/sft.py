"""Priming SFT with TRL's SFTTrainer: LoRA (default) or full fine-tuning on conversational priming rows.

The output folder is itself a model (merged weights + tokenizer with its chat template), so it is accepted as
`--model` by `train rl` and `eval`; a LoRA run also keeps the adapter under `adapter/`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.countdown import save_problems
from cogbeh.prompting import PromptFormat, PromptStyle, as_format, write_record
from cogbeh.train.chat_template import ensure_chat_template
from cogbeh.train.config import (
    TrainConfig,
    check_model_folder,
    default_config_path,
    load_config,
    lora_config,
    trainer_args,
)
from cogbeh.train.data import load_priming

#: Written next to every trained model: the priming problems, so `train rl` can refuse overlapping ones.
PRIMING_PROBLEMS = "priming_problems.jsonl"
#: Provenance of a training run (command kind, sources, settings, final metrics).
RUN_INFO = "cogbeh_train.json"


class TrainingError(RuntimeError):
    """Training finished without a usable result (e.g. a non-finite loss)."""


@dataclass(frozen=True)
class SftResult:
    """Where the model went and what the trainer logged."""

    out: Path
    adapter: Path | None
    metrics: dict[str, float]
    log_history: list[dict[str, Any]] = field(default_factory=list)


def train_sft(
    data: str | Path,
    model: str,
    out: str | Path,
    *,
    lora: bool = True,
    config: str | Path | None = None,
    max_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    style: PromptStyle | PromptFormat = "tinyzero",
) -> SftResult:
    """Fine-tune `model` on priming data from `data` in prompt format `style`; write the model to `out`."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    out = Path(out)
    priming = load_priming(data, style=style)
    settings = load_config(config or default_config_path("sft-lora" if lora else "sft-full"), kind="sft")
    args = trainer_args(settings, kind="sft", out=out, max_steps=max_steps, overrides=overrides)
    check_model_folder(model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    ensure_chat_template(tokenizer)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(priming.rows),
        processing_class=tokenizer,
        peft_config=lora_config(settings.lora) if lora else None,
    )
    output = trainer.train()
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, (int, float))}
    _check_finite(trainer.state.log_history)
    adapter = save_trained(trainer, tokenizer, out, lora=lora)
    save_problems(priming.problems, out / PRIMING_PROBLEMS)
    write_record(out, style)  # `train rl` and `eval` refuse another format unless told
    write_run_info(
        out,
        kind="sft",
        base_model=model,
        data=priming.source,
        rows=len(priming.rows),
        prompt=as_format(style).to_json(),
        lora=lora,
        settings=settings,
        metrics=metrics,
        log_history=trainer.state.log_history,
    )
    return SftResult(out=out, adapter=adapter, metrics=metrics, log_history=list(trainer.state.log_history))


def save_trained(trainer: Any, tokenizer: Any, out: Path, *, lora: bool) -> Path | None:
    """Save the adapter (LoRA) and a plain model folder loadable by `from_pretrained(out)`."""
    tokenizer.save_pretrained(out)
    if not lora:
        trainer.save_model(str(out))
        return None
    adapter = out / "adapter"
    trainer.model.save_pretrained(adapter)
    absolute_base_path(adapter)
    tokenizer.save_pretrained(adapter)
    merged = trainer.model.merge_and_unload()
    # merge_and_unload leaves every parameter frozen (DESIGN.md §5); a caller that keeps training this
    # object in memory (e.g. straight into GRPO) would otherwise update nothing.
    merged.requires_grad_(True)
    merged.save_pretrained(out)
    return adapter


def absolute_base_path(adapter: Path) -> None:
    """Rewrite a local base model path in adapter_config.json as absolute (a Hub id stays as is).

    PEFT records the path as typed, so an adapter saved from `--model ./base` would not load elsewhere.
    """
    path = adapter / "adapter_config.json"
    if not path.is_file():
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if isinstance(base, str) and base and Path(base).is_dir() and not Path(base).is_absolute():
        config["base_model_name_or_path"] = str(Path(base).resolve())
        path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _check_finite(log_history: list[dict[str, Any]]) -> None:
    losses = [entry["loss"] for entry in log_history if "loss" in entry]
    if any(not math.isfinite(float(loss)) for loss in losses):
        raise TrainingError(f"training loss became non-finite ({losses}); lower the learning rate")


def write_run_info(out: Path, *, kind: str, settings: TrainConfig, **info: Any) -> Path:
    """Record provenance next to the model: what was trained on what, with which settings."""
    payload = {
        "kind": kind,
        **info,
        "config_file": str(settings.path) if settings.path else None,
        "trainer_args": settings.args,
        "lora_settings": settings.lora,
    }
    path = out / RUN_INFO
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path
