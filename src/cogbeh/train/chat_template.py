"""The default chat template for base models whose tokenizer has none.

Rendered conversation (`<eos>` is the tokenizer's own end-of-sequence token)::

    [system text + blank line]
    User: <user text>
    Assistant:
    <assistant text><eos>

Why this shape: the template writes the end-of-turn token itself, so SFT teaches the model to stop and
GRPO's generation ends there; the generation prompt ends in a newline, which byte-level BPE never merges with
the next character, so the tokenized prompt is an exact prefix of prompt + completion (TRL's completion mask
relies on it); `<think>`/`<answer>` are ordinary text, never special tokens (GRPO decodes with
skip_special_tokens). The assistant turn is wrapped in `{% generation %}` so `assistant_only_loss` works too.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{{ message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'user' -%}"
    "{{ 'User: ' + message['content'] + '\\n' }}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{{ 'Assistant:\\n' }}"
    "{%- generation -%}{{ message['content'] + eos_token }}{%- endgeneration -%}"
    "{{ '\\n' if not loop.last else '' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:\\n' }}{%- endif -%}"
)


def ensure_chat_template(tokenizer: Any) -> bool:
    """Give `tokenizer` the default chat template and a pad token if missing; True if the template was set."""
    if tokenizer.eos_token is None:
        raise ValueError("the tokenizer has no eos_token; the chat template needs one to end each turn")
    if tokenizer.pad_token is None:
        # Padding is masked out of loss and attention: reusing eos is safe and needs no new embedding row.
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    return True
