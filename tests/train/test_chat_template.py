"""The default chat template: ends turns with eos, keeps the prompt a token prefix, leaves tags as text."""

from __future__ import annotations

from pathlib import Path

from cogbeh.train.chat_template import DEFAULT_CHAT_TEMPLATE, ensure_chat_template

PROMPT = [{"role": "user", "content": "Using the numbers 1, 2, 3, write an expression that equals 6."}]
COMPLETION = [
    {"role": "assistant", "content": "<think>\n1 + 2 = 3. 3 + 3 = 6.\n</think>\n<answer>1 + 2 + 3</answer>"}
]


def _tokenizer(path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.chat_template is None  # the tiny base model has none, like many base checkpoints
    assert ensure_chat_template(tokenizer) is True
    return tokenizer


def test_template_renders_turns_and_ends_the_assistant_turn_with_eos(tiny_model: Path) -> None:
    tokenizer = _tokenizer(tiny_model)
    prompt = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(PROMPT + COMPLETION, tokenize=False)
    assert prompt == f"User: {PROMPT[0]['content']}\nAssistant:\n"
    assert full == prompt + COMPLETION[0]["content"] + tokenizer.eos_token


def test_prompt_tokens_are_a_prefix_of_prompt_plus_completion(tiny_model: Path) -> None:
    # TRL's completion mask starts where these diverge; a merged boundary token would change the context.
    tokenizer = _tokenizer(tiny_model)
    prompt_ids = tokenizer.apply_chat_template(
        PROMPT, add_generation_prompt=True, tokenize=True, return_dict=True
    )
    full_ids = tokenizer.apply_chat_template(PROMPT + COMPLETION, tokenize=True, return_dict=True)
    n = len(prompt_ids["input_ids"])
    assert full_ids["input_ids"][:n] == prompt_ids["input_ids"]
    assert full_ids["input_ids"][-1] == tokenizer.eos_token_id


def test_think_and_answer_tags_are_ordinary_text(tiny_model: Path) -> None:
    tokenizer = _tokenizer(tiny_model)
    specials = set(tokenizer.all_special_tokens)
    assert not {"<think>", "</think>", "<answer>", "</answer>"} & specials
    ids = tokenizer(COMPLETION[0]["content"])["input_ids"]
    assert "<answer>1 + 2 + 3</answer>" in tokenizer.decode(ids, skip_special_tokens=True)


def test_an_existing_template_is_kept() -> None:
    class Stub:
        eos_token, pad_token, chat_template = "</s>", None, "{{ messages }}"

    stub = Stub()
    assert ensure_chat_template(stub) is False
    assert stub.chat_template == "{{ messages }}" and stub.pad_token == "</s>"
    assert "generation" in DEFAULT_CHAT_TEMPLATE  # assistant_only_loss works with the default template too
