"""The paper configs and the one-GPU profiles: they build into TRL config objects, give the paper's batch sizes,
and fit their GPU by the memory estimate. Fast: no model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogbeh.paths import generators_dir
from cogbeh.train.config import load_config, trainer_args
from cogbeh.train.memory import GIB, MODELS, ModelShape, estimate, estimate_file

TRAIN = generators_dir() / "train"
SHIPPED = sorted(TRAIN.glob("*.yaml"))
PROFILES = {"sft_80gb.yaml": 80, "sft_24gb.yaml": 24, "grpo_80gb.yaml": 80, "grpo_24gb.yaml": 24}


def _kind(path: Path) -> str:
    return "grpo" if path.name.startswith("grpo") else "sft"


def _build(name: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = TRAIN / name
    return trainer_args(load_config(path, kind=_kind(path)), kind=_kind(path), out=tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_builds_into_its_trl_config(path: Path, tmp_path: Path) -> None:
    from trl import GRPOConfig, SFTConfig

    args = _build(path.name, tmp_path)
    assert isinstance(args, GRPOConfig if _kind(path) == "grpo" else SFTConfig)


def test_the_paper_and_profile_configs_are_shipped() -> None:
    assert {p.name for p in SHIPPED} >= {"sft_paper.yaml", "grpo_paper.yaml", "sft_lora.yaml", *PROFILES}


def test_grpo_paper_takes_256_prompts_times_4_per_optimizer_step(tmp_path: Path) -> None:
    args = _build("grpo_paper.yaml", tmp_path)
    completions = args.per_device_train_batch_size * args.gradient_accumulation_steps * 1  # one process
    assert completions == 1024
    assert args.num_generations == 4 and completions // args.num_generations == 256
    assert args.per_device_train_batch_size % args.num_generations == 0
    assert args.generation_batch_size == 1024  # one generation round per optimizer step
    assert (args.learning_rate, args.max_steps, args.temperature) == (1e-6, 250, 1.0)
    assert args.max_completion_length == 1024 and args.beta == 0.001


@pytest.mark.parametrize("name", ["grpo_80gb.yaml", "grpo_24gb.yaml"])
def test_grpo_profiles_keep_the_paper_step(name: str, tmp_path: Path) -> None:
    args = _build(name, tmp_path)
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps == 1024
    assert args.num_generations == 4 and args.max_completion_length == 1024 and args.save_only_model
    assert args.generation_batch_size % args.num_generations == 0


@pytest.mark.parametrize("name", ["sft_paper.yaml", "sft_80gb.yaml", "sft_24gb.yaml"])
def test_sft_configs_take_64_sequences_per_update(name: str, tmp_path: Path) -> None:
    args = _build(name, tmp_path)
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps == 64
    assert args.max_length == 2048 and args.num_train_epochs == 5


def test_sft_paper_is_the_verl_recipe(tmp_path: Path) -> None:
    config = load_config(TRAIN / "sft_paper.yaml", kind="sft")
    assert config.lora.get("use_peft") is False
    args = _build("sft_paper.yaml", tmp_path)
    assert (args.learning_rate, args.weight_decay, args.adam_beta1, args.adam_beta2) == (
        1e-5,
        0.01,
        0.9,
        0.95,
    )
    assert args.warmup_steps == 0.1 and config.args["bf16"] is True


def test_use_vllm_is_switched_off_with_a_notice_when_vllm_is_unusable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cogbeh.train.config as config_module

    monkeypatch.setattr(config_module, "vllm_usable", lambda: False)
    args = _build("grpo_paper.yaml", tmp_path)
    assert args.use_vllm is False
    err = capsys.readouterr().err
    assert "use_vllm is on in" in err and "grpo_paper.yaml" in err and "generating with transformers" in err


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("use_vllm", [True, False])
def test_profiles_fit_their_gpu_by_the_estimate(name: str, model: str, use_vllm: bool) -> None:
    budget = PROFILES[name]
    total = estimate_file(TRAIN / name, MODELS[model], gpu_gib=budget, use_vllm=use_vllm).total / GIB
    assert total <= 0.95 * budget, f"{name} with {model}: {total:.1f} GiB of {budget}"


def test_estimate_terms_follow_the_settings() -> None:
    model = ModelShape("toy", 1e9, 10, 1024, 4096, 32000, 256)
    full = estimate({"per_device_train_batch_size": 1, "max_length": 128}, model, kind="sft", gpu_gib=80)
    assert full.weights == full.grads == 4e9 and full.optimizer == 8e9 and full.reference == 0
    bf16 = {"model_init_kwargs": {"dtype": "bfloat16"}, "beta": 0.01, "optim": "adamw_bnb_8bit"}
    grpo = estimate(bf16, model, kind="grpo", gpu_gib=80)
    assert grpo.weights == grpo.reference == 2e9 and grpo.optimizer == 2e9
    assert estimate({**bf16, "beta": 0.0}, model, kind="grpo", gpu_gib=80).reference == 0
    lora = estimate(bf16, model, kind="grpo", gpu_gib=80, lora={"use_peft": True, "lora_r": 8})
    assert lora.reference == 0 and lora.grads == model.lora_params(8) * 4
    vllm = estimate(
        {**bf16, "use_vllm": True, "vllm_gpu_memory_utilization": 0.5}, model, kind="grpo", gpu_gib=24
    )
    assert vllm.generation == 12 * GIB
    shape = {"per_device_train_batch_size": 1, "max_length": 128}
    checkpointed = estimate({**shape, "activation_checkpointing": True}, model, kind="sft", gpu_gib=80)
    assert checkpointed.activations < full.activations / 4  # one layer at a time, not ten
