"""A tiny local model for offline tests, CPU walkthroughs and GPU checks: our BPE tokenizer, a random Qwen2.

No weights are downloaded: the tokenizer is trained with `tokenizers` on symbolic traces and prompts, and the
model is initialised at random from a Qwen2 config. It learns the format, not arithmetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from cogbeh.countdown import sample_problems
from cogbeh.templating import render
from cogbeh.traces import NoTrace, Shape, synthesize

EOS = "<|endoftext|>"


@dataclass(frozen=True)
class TinySize:
    """Qwen2 shape knobs."""

    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    intermediate: int = 128


#: Named sizes: `tiny` for tests and CPU walkthroughs, `0.5b` close to Qwen2.5-0.5B's shape for GPU checks.
SIZES: dict[str, TinySize] = {
    "tiny": TinySize(),
    "small": TinySize(hidden=256, layers=4, heads=4, kv_heads=2, intermediate=512),
    "medium": TinySize(hidden=512, layers=8, heads=8, kv_heads=2, intermediate=1408),  # the GPU check's model
    "0.5b": TinySize(hidden=896, layers=24, heads=14, kv_heads=2, intermediate=4864),
}


def corpus(n: int = 400, *, seed: int = 0) -> list[str]:
    """Texts the tokenizer is trained on: traces of every behavior mix, priming queries and RL prompts."""
    rng = random.Random(f"tiny:{seed}")
    texts = ["User: \nAssistant:\n"]
    for index, problem in enumerate(sample_problems(n, preset="paper", seed=seed)):
        flags = [rng.random() < 0.5 for _ in range(4)]
        shape = Shape(
            *flags, backtracks=rng.randint(1, 2) if flags[1] else 0, backward_depth=rng.randint(1, 2)
        )
        try:
            texts.append(synthesize(problem, shape, random.Random(f"{seed}:{index}")).text)
        except NoTrace:
            continue
        if index % 4 == 0:
            texts.append(render("prompts/query.jinja", nums=problem.nums, target=problem.target))
            texts.append(render("rl/tinyzero.jinja", nums=problem.nums, target=problem.target))
    return texts


def build_tokenizer(*, vocab_size: int = 1024, seed: int = 0):  # -> PreTrainedTokenizerFast
    """A byte-level BPE tokenizer trained on `corpus()`; eos = pad = '<|endoftext|>'; no chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte encodable: no unknown tokens, ever
    )
    tokenizer.train_from_iterator(corpus(seed=seed), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, pad_token=EOS)


def build_tiny_model(out: str | Path, *, size: str = "tiny", vocab_size: int = 1024, seed: int = 0) -> Path:
    """Write a random-init Qwen2 model and our tokenizer to `out`; loadable with `from_pretrained(out)`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    shape = SIZES[size]
    tokenizer = build_tokenizer(vocab_size=vocab_size, seed=seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        intermediate_size=shape.intermediate,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
