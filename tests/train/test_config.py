"""Training YAML: TRL field names only, readable by TrlParser, validated with named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogbeh.paths import generators_dir
from cogbeh.train.config import ConfigError, TrainConfig, load_config, lora_config, trainer_args

SHIPPED = sorted((generators_dir() / "train").glob("*.yaml"))


def _kind(path: Path) -> str:
    return "grpo" if path.name.startswith("grpo") else "sft"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_are_read_by_trl_own_parser_and_ours(path: Path, tmp_path: Path) -> None:
    from trl import GRPOConfig, ModelConfig, SFTConfig, TrlParser

    config_class = GRPOConfig if _kind(path) == "grpo" else SFTConfig
    parser = TrlParser((config_class, ModelConfig))
    # bf16 off: TrainingArguments refuses bf16 on a machine without a bf16-capable device.
    args, model_args = parser.parse_args_and_config(
        ["--config", str(path), "--output_dir", str(tmp_path), "--bf16", "false"]
    )
    ours = load_config(path, kind=_kind(path))  # type: ignore[arg-type]
    assert args.learning_rate == ours.args["learning_rate"]
    assert model_args.use_peft == bool(ours.lora.get("use_peft", False))


def test_there_are_lora_grpo_and_cpu_configs() -> None:
    assert {p.name for p in SHIPPED} >= {
        "sft_lora.yaml",
        "sft_full.yaml",
        "grpo.yaml",
        "sft_cpu.yaml",
        "grpo_cpu.yaml",
    }


def test_unknown_and_cli_owned_keys_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: 1.0e-4\nmax_seq_length: 2048\n")
    with pytest.raises(ConfigError, match="max_seq_length"):
        load_config(bad, kind="sft")
    bad.write_text("output_dir: somewhere\n")
    with pytest.raises(ConfigError, match="--out"):
        load_config(bad, kind="sft")
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad, kind="grpo")


def test_grpo_batch_divisibility_is_reported(tmp_path: Path) -> None:
    config = TrainConfig(args={"num_generations": 4, "per_device_train_batch_size": 6})
    with pytest.raises(ConfigError, match="divisible by num_generations"):
        trainer_args(config, kind="grpo", out=tmp_path)


def test_cpu_overrides_and_max_steps(tmp_path: Path) -> None:
    config = load_config(generators_dir() / "train" / "sft_lora.yaml", kind="sft")
    args = trainer_args(config, kind="sft", out=tmp_path, max_steps=3)
    assert args.max_steps == 3 and args.completion_only_loss is True
    import torch

    if not torch.cuda.is_available():
        assert args.bf16 is False and args.activation_checkpointing is False


def test_lora_targets_all_linear_layers_by_default() -> None:
    lora = lora_config({"lora_r": 8})
    assert lora.r == 8 and lora.target_modules == "all-linear" and lora.lora_alpha == 32


@pytest.mark.parametrize(("flag", "use_peft"), [("--lora", "false"), ("--full", "true")])
def test_sft_refuses_a_lora_flag_that_contradicts_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, use_peft: str
) -> None:
    from cogbeh.cli.main import main

    config = tmp_path / "sft.yaml"
    config.write_text(f"num_train_epochs: 1\nuse_peft: {use_peft}\n")
    with pytest.raises(SystemExit) as done:
        main(["train", "sft", "--data", str(tmp_path), "--model", "user/model", "--out", str(tmp_path / "o"),
              flag, "--config", str(config)])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and err.count("\n") == 0
    assert f"{flag} contradicts sft.yaml, which sets use_peft: {use_peft}" in err
    assert not (tmp_path / "o").exists()


def test_sft_takes_full_or_lora_from_the_config_when_no_flag_is_typed(tmp_path: Path) -> None:
    import click

    from cogbeh.cli.train import _lora_choice

    full, lora = tmp_path / "full.yaml", tmp_path / "lora.yaml"
    full.write_text("use_peft: false\n")
    lora.write_text("use_peft: true\n")
    command = click.Command("sft", params=[click.Option(["--lora/--full"], default=True)])
    with click.Context(command) as ctx:
        ctx.set_parameter_source("lora", click.core.ParameterSource.DEFAULT)
        assert _lora_choice(True, full) is False
        assert _lora_choice(True, lora) is True
        assert _lora_choice(True, None) is True
