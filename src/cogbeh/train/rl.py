"""RL on Countdown with TRL's GRPOTrainer and our safe reward.

Prompts come from the TinyZero-style template (or the priming query as a chat turn); the RL problems must be
disjoint from the priming problems, checked by Problem.id. vLLM generates when it is installed and CUDA is
present; otherwise transformers' `generate` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cogbeh.countdown import Problem, countdown_reward, load_problems, save_problems
from cogbeh.prompting import PromptFormat, as_format, write_record
from cogbeh.train.chat_template import ensure_chat_template
from cogbeh.train.config import (
    check_model_folder,
    default_config_path,
    load_config,
    lora_config,
    trainer_args,
    vllm_usable,
)
from cogbeh.train.data import DataError, PromptStyle, overlap, rl_rows
from cogbeh.train.sft import PRIMING_PROBLEMS, save_trained, write_run_info

RL_PROBLEMS = "rl_problems.jsonl"
RewardFunc = Callable[..., list[float]]
# The tagged layout a completion should have: reasoning closed by </think>, then one answer, then nothing.
# The opening <think> is optional because the TinyZero prompt already wrote it.
_FORMAT = re.compile(
    r"\A\s*(?:<think>)?(?:(?!<think>).)*?</think>\s*<answer>(?:(?!<answer>).)*?</answer>\s*\Z", re.S
)


class OverlapError(ValueError):
    """RL problems that also occur in the priming data."""


@dataclass(frozen=True)
class RlResult:
    """Where the policy went and what the trainer logged."""

    out: Path
    metrics: dict[str, float]
    log_history: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0


def format_reward(completions: Sequence[object], **kwargs: object) -> list[float]:
    """1.0 when a completion is '...</think> <answer>...</answer>' and nothing after, else 0.0."""
    return [1.0 if _FORMAT.match(_text(c)) else 0.0 for c in completions]


def _text(completion: object) -> str:
    if isinstance(completion, list):  # conversational: the assistant message(s)
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    return completion if isinstance(completion, str) else ""


def priming_problems_of(model: str | Path) -> list[Problem]:
    """Priming problems recorded next to a model trained by `train sft` (empty if there is no record)."""
    path = Path(model) / PRIMING_PROBLEMS
    return load_problems(path) if path.is_file() else []


def check_disjoint(rl: Sequence[Problem], priming: Sequence[Problem]) -> None:
    """Raise OverlapError when any RL problem is also a priming problem."""
    shared = overlap(rl, priming)
    if shared:
        examples = ", ".join(shared[:5])
        raise OverlapError(
            f"{len(shared)} RL problem(s) also occur in the priming data (e.g. {examples}); "
            "sample RL problems with another seed or preset, or filter them out"
        )


def drop_overlap(rl: Sequence[Problem], priming: Sequence[Problem]) -> tuple[list[Problem], int]:
    """The RL problems that are not priming problems, and how many were dropped (DataError if none is left)."""
    seen = {p.id for p in priming}
    kept = [p for p in rl if p.id not in seen]
    if rl and not kept:
        raise DataError(f"all {len(rl)} RL problem(s) also occur in the priming data; nothing left to train on")
    return kept, len(rl) - len(kept)


def train_rl(
    model: str,
    problems: Sequence[Problem],
    out: str | Path,
    *,
    config: str | Path | None = None,
    max_steps: int | None = None,
    priming: Sequence[Problem] = (),
    style: PromptStyle | PromptFormat = "tinyzero",
    drop_overlapping: bool = False,
    format_weight: float = 0.0,
    lora: bool = False,
    reward_funcs: Sequence[RewardFunc] | None = None,
    overrides: dict[str, Any] | None = None,
) -> RlResult:
    """GRPO on `problems` from `model`; the policy and checkpoints go to `out`.

    Problems that are also priming problems are refused, or dropped (and counted) with `drop_overlapping`.
    """
    known_priming = [*priming, *priming_problems_of(model)]
    dropped = 0
    if drop_overlapping:
        problems, dropped = drop_overlap(problems, known_priming)
    check_disjoint(problems, known_priming)  # before the heavy imports: a refusal should be instant
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    out = Path(out)
    settings = load_config(config or default_config_path("grpo"), kind="grpo")
    lora = lora or bool(settings.lora.get("use_peft"))  # a LoRA profile (grpo_24gb.yaml) trains an adapter
    extra = dict(overrides or {})
    if "use_vllm" not in settings.args and "use_vllm" not in extra:
        extra.update(use_vllm=vllm_usable(), vllm_mode="colocate")
    funcs = list(reward_funcs) if reward_funcs is not None else [countdown_reward]
    if format_weight > 0 and reward_funcs is None:
        funcs.append(format_reward)
        extra.setdefault("reward_weights", [1.0, format_weight])
    args = trainer_args(settings, kind="grpo", out=out, max_steps=max_steps, overrides=extra)
    check_model_folder(model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    ensure_chat_template(tokenizer)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=Dataset.from_list(rl_rows(problems, style=style)),
        processing_class=tokenizer,
        peft_config=lora_config(settings.lora) if lora else None,
    )
    output = trainer.train()
    save_trained(trainer, tokenizer, out, lora=lora)
    metrics = {k: float(v) for k, v in output.metrics.items() if isinstance(v, (int, float))}
    if known_priming:  # carried forward so a second RL stage on this policy is checked too
        save_problems(known_priming, out / PRIMING_PROBLEMS)
    save_problems(problems, out / RL_PROBLEMS)
    write_record(out, style)  # `eval` of this policy refuses another format unless told
    write_run_info(
        out,
        kind="rl",
        base_model=model,
        problems=len(problems),
        dropped_overlap=dropped,
        style=as_format(style).style,
        prompt=as_format(style).to_json(),
        lora=lora,
        final_step=trainer.state.global_step,
        settings=settings,
        metrics=metrics,
        log_history=trainer.state.log_history,
    )
    return RlResult(out=out, metrics=metrics, log_history=list(trainer.state.log_history), dropped=dropped)
