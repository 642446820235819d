"""GPU memory estimate for a training config: which of generators/train/*.yaml fits which GPU for a given model.

Arithmetic, not a measurement (the GPU check measures). Terms, in bytes:
- weights: parameters x bytes of the load dtype (`model_init_kwargs.dtype`: fp32 unless bf16/fp16 is named);
  with LoRA, plus the adapter in fp32 (PEFT upcasts adapters).
- grads: trainable parameters x their bytes (all weights in full fine-tuning, the adapter with LoRA).
- optimizer: AdamW's two moments per trainable parameter in the parameter's dtype, or 2 bytes with 8-bit Adam.
- reference: GRPO with `beta > 0` loads a second copy of the weights in the policy's dtype; with LoRA the policy
  with its adapter disabled is the reference, so nothing more.
- activations: per micro-batch token, with gradient checkpointing each layer keeps its bf16 input (hidden x 2 bytes)
  and one layer at a time is recomputed in full: q, k, v, attention and projection outputs, two norms and the MLP's
  gate/up/act/product (8 x hidden + 2 x kv width + 4 x intermediate values, bf16) plus two fp32 norm upcasts;
  attention itself is SDPA/flash, so no sequence-squared term. Without checkpointing every layer keeps all of it.
- logits: tokens that reach the loss x vocabulary x 10 bytes (bf16 logits, their fp32 upcast and its gradient);
  SFT: every token of the micro-batch; GRPO: the completion tokens only (TRL's `logits_to_keep`).
- generation (GRPO): with vLLM in colocate mode the share `vllm_gpu_memory_utilization` of the GPU that vLLM
  reserves (its weights and KV cache); with transformers' `generate`, the KV cache of one device's generation batch
  (sequences x (prompt + completion) tokens x 2 x layers x kv width x 2 bytes).
- overhead: 2 GiB for the CUDA context, cuBLAS workspaces and allocator fragmentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

GIB = 2**30
OVERHEAD_BYTES = 2 * GIB
LOGIT_BYTES = 10  # bf16 logits + fp32 upcast + fp32 gradient, per token per vocabulary entry
PROMPT_TOKENS = 256  # the paper's data.max_prompt_length; TinyZero prompts are ~150 tokens
EIGHT_BIT_OPTIMIZERS = ("adamw_bnb_8bit", "adamw_8bit", "paged_adamw_8bit", "adamw_torch_8bit")


@dataclass(frozen=True)
class ModelShape:
    """What the estimate needs from a decoder-only transformer's config."""

    name: str
    params: float
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    kv_width: int  # key/value heads x head dimension

    def lora_params(self, rank: int) -> int:
        """Adapter parameters of rank `rank` on every linear layer of the blocks (q, k, v, o, gate, up, down)."""
        h, kv, i = self.hidden, self.kv_width, self.intermediate
        per_layer = (h + h) + 2 * (h + kv) + (h + h) + 2 * (h + i) + (i + h)
        return rank * per_layer * self.layers


#: The paper's two base models (config.json of Qwen/Qwen2.5-3B and meta-llama/Llama-3.2-3B).
MODELS = {
    "qwen2.5-3b": ModelShape("Qwen2.5-3B", 3.09e9, 36, 2048, 11008, 151936, 2 * 128),
    "llama-3.2-3b": ModelShape("Llama-3.2-3B", 3.21e9, 28, 3072, 8192, 128256, 8 * 128),
}


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes per term (see the module docstring); `total` is their sum."""

    weights: float
    grads: float
    optimizer: float
    reference: float
    activations: float
    logits: float
    generation: float
    overhead: float

    @property
    def total(self) -> float:
        return sum(asdict(self).values())

    def gib(self) -> dict[str, float]:
        """Each term and the total in GiB, rounded to 0.1."""
        return {k: round(v / GIB, 1) for k, v in {**asdict(self), "total": self.total}.items()}


def _dtype_bytes(init: object) -> int:
    dtype = init.get("dtype") if isinstance(init, Mapping) else None
    return 2 if str(dtype).replace("torch.", "") in ("bfloat16", "float16") else 4


def estimate(
    args: Mapping[str, Any],
    model: ModelShape,
    *,
    kind: str,
    gpu_gib: float,
    lora: Mapping[str, Any] | None = None,
    use_vllm: bool | None = None,
    prompt_tokens: int = PROMPT_TOKENS,
) -> MemoryEstimate:
    """Peak memory of training `model` with trainer settings `args` (TRL field names, as in a config file).

    `lora`: ModelConfig LoRA fields (`use_peft`, `lora_r`); `use_vllm` overrides the file's value (the loader turns
    vLLM off when it is not installed); `gpu_gib` sizes vLLM's reserved share. Missing keys take TRL's defaults."""
    lora = lora or {}
    use_peft = bool(lora.get("use_peft", False))
    weight_bytes = _dtype_bytes(args.get("model_init_kwargs"))
    base = model.params * weight_bytes
    if use_peft:
        trainable, trainable_bytes = model.lora_params(int(lora.get("lora_r", 16))), 4
        weights = base + trainable * trainable_bytes
    else:
        trainable, trainable_bytes = model.params, weight_bytes
        weights = base
    grads = trainable * trainable_bytes
    eight_bit = str(args.get("optim", "adamw_torch")) in EIGHT_BIT_OPTIMIZERS
    optimizer = trainable * (2 if eight_bit else 2 * trainable_bytes)
    beta = float(args.get("beta", 0.0)) if kind == "grpo" else 0.0
    reference = base if beta > 0 and not use_peft else 0.0

    batch = int(args.get("per_device_train_batch_size", 8))
    if kind == "grpo":
        completion = int(args.get("max_completion_length", 256))
        tokens, loss_tokens = batch * (prompt_tokens + completion), batch * completion
    else:
        tokens = batch * int(args.get("max_length", 1024))
        loss_tokens = tokens
    h, kv, i = model.hidden, model.kv_width, model.intermediate
    layer_per_token = (8 * h + 2 * kv + 4 * i) * 2 + 2 * h * 4
    checkpointing = bool(args.get("activation_checkpointing", args.get("gradient_checkpointing", False)))
    if checkpointing:
        activations = tokens * (model.layers * h * 2 + layer_per_token)
    else:
        activations = tokens * model.layers * (h * 2 + layer_per_token)
    logits = loss_tokens * model.vocab * LOGIT_BYTES

    generation = 0.0
    if kind == "grpo":
        vllm = bool(args.get("use_vllm", False)) if use_vllm is None else use_vllm
        if vllm and args.get("vllm_mode", "colocate") == "colocate":
            generation = float(args.get("vllm_gpu_memory_utilization", 0.3)) * gpu_gib * GIB
        elif not vllm:
            steps = args.get("steps_per_generation") or int(args.get("gradient_accumulation_steps", 1))
            sequences = int(args.get("generation_batch_size") or batch * int(steps))
            kv_bytes_per_token = 2 * model.layers * kv * 2
            generation = sequences * (prompt_tokens + completion) * kv_bytes_per_token
    return MemoryEstimate(
        weights=weights,
        grads=grads,
        optimizer=optimizer,
        reference=reference,
        activations=activations,
        logits=logits,
        generation=generation,
        overhead=OVERHEAD_BYTES,
    )


def estimate_file(
    path: Any, model: ModelShape, *, gpu_gib: float, use_vllm: bool | None = None
) -> MemoryEstimate:
    """`estimate` for a config file of generators/train/ (kind from its name: grpo* or sft*)."""
    from pathlib import Path

    from cogbeh.train.config import load_config

    path = Path(path)
    kind = "grpo" if path.name.startswith("grpo") else "sft"
    config = load_config(path, kind=kind)  # type: ignore[arg-type]
    return estimate(config.args, model, kind=kind, gpu_gib=gpu_gib, lora=config.lora, use_vllm=use_vllm)


#: The one-GPU profiles of generators/train/ and the GPU (GiB) each is sized for.
PROFILES = {"sft_80gb.yaml": 80, "sft_24gb.yaml": 24, "grpo_80gb.yaml": 80, "grpo_24gb.yaml": 24}


def table(names: dict[str, float] | None = None) -> str:
    """Markdown table of each profile's estimate for both 3B models (vLLM on / off for GRPO)."""
    from cogbeh.paths import generators_dir

    head = "| profile | GPU | model | vLLM | weights | grads | Adam | ref | activations | logits | generation | total |"
    lines = [head, "|" + "---|" * 12]
    for name, gpu in (names or PROFILES).items():
        for model in MODELS.values():
            for vllm in (True, False) if name.startswith("grpo") else (None,):
                e = estimate_file(generators_dir() / "train" / name, model, gpu_gib=gpu, use_vllm=vllm).gib()
                flag = "-" if vllm is None else ("on" if vllm else "off")
                cells = [
                    e[k] for k in ("weights", "grads", "optimizer", "reference", "activations", "logits")
                ]
                lines.append(
                    f"| {name} | {gpu} GB | {model.name} | {flag} | "
                    + " | ".join(str(c) for c in [*cells, e["generation"]])
                    + f" | **{e['total']}** |"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table({**PROFILES, "sft_paper.yaml": 80, "grpo_paper.yaml": 80}))
