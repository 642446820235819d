"""Training configs: YAML whose keys are TRL field names, so `TrlParser` reads the same files.

A file may hold `SFTConfig` / `GRPOConfig` fields (which include every `TrainingArguments` field) and the
LoRA fields of TRL's `ModelConfig` (`use_peft`, `lora_r`, `lora_alpha`, ...), exactly as `trl sft --config`
and `trl grpo --config` expect. Anything else is an error naming the key.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from cogbeh.paths import generators_dir

Kind = Literal["sft", "grpo"]

#: ModelConfig fields we read to build a peft.LoraConfig; the rest of ModelConfig is set by our command line.
LORA_FIELDS = (
    "use_peft",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "lora_modules_to_save",
    "lora_task_type",
    "use_rslora",
    "use_dora",
)
#: Keys TRL's scripts accept that our commands take as options instead.
OWNED_BY_CLI = {"model_name_or_path": "--model", "dataset_name": "--data", "output_dir": "--out"}
DEFAULT_FILES = {"sft-lora": "sft_lora.yaml", "sft-full": "sft_full.yaml", "grpo": "grpo.yaml"}


class ConfigError(ValueError):
    """A config file that is missing, not a mapping, or has keys TRL would not accept."""


#: What makes a local folder loadable as a model: a full model (save_pretrained) or a LoRA adapter.
MODEL_FILES = ("config.json", "adapter_config.json")


def check_model_folder(model: str | Path) -> None:
    """ConfigError (one CLI line) for a local folder that holds no model; Hub ids and model folders pass.

    Every stage calls this just before it loads `model`, so a wrong folder is named instead of surfacing as
    a transformers traceback from inside the tokenizer or model loader.
    """
    path = Path(model).expanduser()
    if path.is_dir() and not any((path / name).is_file() for name in MODEL_FILES):
        raise ConfigError(f"model {model}: the folder has no config.json or adapter_config.json, so it holds no "
                          "model; give a folder written by `train sft`/`train rl`/save_pretrained, or a Hub id")


@dataclass(frozen=True)
class TrainConfig:
    """Trainer arguments (TRL field names) and LoRA settings (ModelConfig field names) from one YAML file."""

    args: dict[str, Any] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def default_config_path(name: str) -> Path:
    """The shipped config `name` (one of DEFAULT_FILES) under generators/train/."""
    return generators_dir() / "train" / DEFAULT_FILES[name]


def _trainer_fields(kind: Kind) -> set[str]:
    if kind == "sft":
        from trl import SFTConfig as Config
    else:
        from trl import GRPOConfig as Config
    return {f.name for f in dataclasses.fields(Config) if f.init}


def load_config(path: str | Path, *, kind: Kind) -> TrainConfig:
    """Read and validate a YAML config for `kind`; unknown keys raise ConfigError naming the first one."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read config {path}: {' '.join(str(err).split())}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a YAML mapping of TRL field names to values")
    data.pop(
        "env", None
    )  # TrlParser sets these environment variables; our commands leave the environment alone
    trainer_fields = _trainer_fields(kind)
    args, lora = {}, {}
    for key, value in data.items():
        if key in OWNED_BY_CLI:
            raise ConfigError(
                f"config {path}: {key!r} is set by the command line ({OWNED_BY_CLI[key]}); remove it"
            )
        if key in LORA_FIELDS:
            lora[key] = value
        elif key in trainer_fields:
            args[key] = value
        else:
            name = "SFTConfig" if kind == "sft" else "GRPOConfig"
            raise ConfigError(f"config {path}: unknown key {key!r} (not a {name} or LoRA ModelConfig field)")
    return TrainConfig(args=args, lora=lora, path=path)


def device_overrides() -> dict[str, Any]:
    """Settings forced by the hardware: no bf16 or activation checkpointing on CPU (DESIGN.md §5)."""
    import torch

    if torch.cuda.is_available():
        return {}
    return {"bf16": False, "fp16": False, "activation_checkpointing": False, "gradient_checkpointing": False}


def vllm_installed() -> bool:
    """vLLM can be imported (checked without importing it)."""
    return importlib.util.find_spec("vllm") is not None


def vllm_usable() -> bool:
    """vLLM is installed and a CUDA device is present."""
    if not vllm_installed():
        return False
    import torch

    return torch.cuda.is_available()


def lora_config(lora: dict[str, Any]) -> Any:
    """A peft.LoraConfig from ModelConfig-named settings; targets every linear layer unless told otherwise."""
    from peft import LoraConfig

    return LoraConfig(
        r=int(lora.get("lora_r", 16)),
        lora_alpha=int(lora.get("lora_alpha", 32)),
        lora_dropout=float(lora.get("lora_dropout", 0.05)),
        target_modules=lora.get("lora_target_modules") or "all-linear",
        modules_to_save=lora.get("lora_modules_to_save"),
        task_type=lora.get("lora_task_type", "CAUSAL_LM"),
        use_rslora=bool(lora.get("use_rslora", False)),
        use_dora=bool(lora.get("use_dora", False)),
    )


def trainer_args(
    config: TrainConfig,
    *,
    kind: Kind,
    out: Path,
    max_steps: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> Any:
    """The TRL config object: file values, then hardware overrides, then `max_steps` and `overrides`."""
    if kind == "sft":
        from trl import SFTConfig as Config
    else:
        from trl import GRPOConfig as Config
    values = {**config.args, **device_overrides(), **(overrides or {})}
    if kind == "grpo" and values.get("use_vllm") and not vllm_usable():
        reason = "installed, but there is no CUDA device" if vllm_installed() else "not installed"
        print(
            f"notice: use_vllm is on in {config.path or 'the config'} but vLLM is {reason}; "
            "generating with transformers instead (use_vllm: false)",
            file=sys.stderr,
        )
        values["use_vllm"] = False
    init = values.get("model_init_kwargs")
    if (
        isinstance(init, dict)
        and init.get("dtype") in ("bfloat16", "float16")
        and values.get("bf16") is False
    ):
        values["model_init_kwargs"] = {
            **init,
            "dtype": "float32",
        }  # half-precision weights need a GPU to be fast
    if max_steps is not None:
        values["max_steps"] = max_steps
    if values.get("activation_checkpointing") is not None:
        values.pop("gradient_checkpointing", None)  # the deprecated alias would only add a warning
    try:
        return Config(output_dir=str(out), **values)
    except (TypeError, ValueError) as err:
        raise ConfigError(" ".join(str(err).split())) from None
