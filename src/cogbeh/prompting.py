"""One prompt format for every stage: priming SFT rows, RL rows, eval prompts and veRL rows.

`tinyzero` (default) is raw User/Assistant text ending in an opened think tag (templates/rl/tinyzero.jinja,
the paper's format, no chat template); `chat` puts the priming query in one user message. A raw template file
(`--prompt-template`) replaces the style's shipped template. Each run folder records the format in
`prompt.json`, and a later stage refuses a model trained with another one unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cogbeh.countdown import Problem
from cogbeh.paths import templates_dir
from cogbeh.templating import render

#: `tinyzero`: raw text ending in an opened think tag (TinyZero's base setup, the paper's priming format);
#: `chat`: the priming query as a user message, rendered by the tokenizer's chat template.
PromptStyle = Literal["tinyzero", "chat"]
PROMPT_STYLES: tuple[PromptStyle, ...] = ("tinyzero", "chat")
SHIPPED: dict[str, str] = {"tinyzero": "rl/tinyzero.jinja", "chat": "prompts/query.jinja"}
#: Written into every run folder (and next to a veRL parquet as `<stem>.prompt.json`).
PROMPT_RECORD = "prompt.json"
THINK = "<think>"


class PromptMismatch(ValueError):
    """A model trained with one prompt format used with another."""


@dataclass(frozen=True)
class PromptFormat:
    """A prompt style and, optionally, a raw template file replacing the style's shipped template."""

    style: PromptStyle = "tinyzero"
    template: Path | None = None

    def __post_init__(self) -> None:
        if self.style not in PROMPT_STYLES:
            raise ValueError(f"unknown prompt style {self.style!r}; choose one of {', '.join(PROMPT_STYLES)}")

    @property
    def template_path(self) -> Path:
        """The template file this format renders."""
        return self.template if self.template is not None else templates_dir() / SHIPPED[self.style]

    @property
    def sha256(self) -> str:
        """Hex sha256 of the template file's bytes."""
        return hashlib.sha256(self.template_path.read_bytes()).hexdigest()

    def text(self, problem: Problem) -> str:
        """The rendered template for `problem` (custom files in the sandbox, rooted at their folder)."""
        if self.template is None:
            return render(SHIPPED[self.style], nums=problem.nums, target=problem.target)
        path = self.template.resolve()
        return render(path.name, root=str(path.parent), nums=problem.nums, target=problem.target)

    def describe(self) -> str:
        """'tinyzero (rl/tinyzero.jinja, sha256 1a2b3c4d5e6f)' for messages."""
        where = str(self.template) if self.template is not None else SHIPPED[self.style]
        return f"{self.style} ({where}, sha256 {self.sha256[:12]})"

    def to_json(self) -> dict[str, Any]:
        """What `prompt.json` holds."""
        template = str(self.template.resolve()) if self.template is not None else SHIPPED[self.style]
        return {"style": self.style, "template": template, "sha256": self.sha256}


def as_format(style: PromptStyle | PromptFormat) -> PromptFormat:
    """A PromptFormat from a style name or a PromptFormat."""
    return style if isinstance(style, PromptFormat) else PromptFormat(style)


def build_prompt(problem: Problem, style: PromptStyle | PromptFormat = "tinyzero") -> str | list[dict[str, str]]:
    """The prompt for `problem` at every stage: raw text, or one user message for `chat`."""
    fmt = as_format(style)
    text = fmt.text(problem)
    return [{"role": "user", "content": text}] if fmt.style == "chat" else text


def opens_think(prompt: object) -> bool:
    """True when a raw prompt already wrote the opening think tag (the completion continues after it)."""
    return isinstance(prompt, str) and prompt.rstrip().endswith(THINK)


def sft_row(
    nums: list[int], target: int, completion: str, style: PromptStyle | PromptFormat = "tinyzero"
) -> dict[str, Any]:
    """A TRL prompt-completion row: raw text (completion continues after the prompt's `<think>`) or chat turns."""
    fmt = as_format(style)
    row = _prompt_completion(fmt.text(Problem(tuple(nums), int(target))), completion, fmt)
    return {**row, "nums": list(nums), "target": int(target)}


def _prompt_completion(text: str, completion: str, fmt: PromptFormat) -> dict[str, Any]:
    """`text` and `completion` as one user and one assistant turn (`chat`), or raw text where a completion
    starting with `<think>` drops it when the prompt already opened it (prompt + completion: one think tag)."""
    if fmt.style == "chat":
        return {"prompt": [{"role": "user", "content": text}],
                "completion": [{"role": "assistant", "content": completion}]}
    if opens_think(text) and completion.lstrip().startswith(THINK):
        completion = completion.lstrip()[len(THINK):]
    return {"prompt": text, "completion": completion}


#: The query around a rewritten corpus document's question, per style (`cogbeh-gen curate rewrite`).
QUESTION_TEMPLATES: dict[str, str] = {"tinyzero": "curate/query_tinyzero.jinja", "chat": "curate/query_chat.jinja"}


def question_row(question: str, thoughts: str, answer: str,
                 style: PromptStyle | PromptFormat = "tinyzero") -> dict[str, Any]:
    """A TRL prompt-completion row for a rewritten document: the paper's query around `question`, and
    `<think>thoughts</think>\n<answer>answer</answer>` as the completion (continuing after an opened think tag).

    A custom `--prompt-template` is a Countdown template, so questions always use the style's shipped one.
    """
    fmt = as_format(style)
    text = render(QUESTION_TEMPLATES[fmt.style], question=question.strip())
    return _prompt_completion(text, f"{THINK}{thoughts.strip()}</think>\n<answer>{answer.strip()}</answer>", fmt)


def write_record(folder: str | Path, style: PromptStyle | PromptFormat, *, name: str = PROMPT_RECORD) -> Path:
    """Record the prompt format in `folder/name`."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_format(style).to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def read_record(folder: str | Path) -> dict[str, Any] | None:
    """The prompt format recorded in a run folder, or None when there is none."""
    path = Path(folder) / PROMPT_RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def check_record(folder: str | Path, style: PromptStyle | PromptFormat, *, explicit: bool = False) -> None:
    """Raise PromptMismatch when `folder` was trained with another format, unless the format was `explicit`."""
    recorded = read_record(folder)
    fmt = as_format(style)
    if explicit or recorded is None:
        return
    if (recorded.get("style"), recorded.get("sha256")) != (fmt.style, fmt.sha256):
        was = f"{recorded.get('style')} ({recorded.get('template')}, sha256 {str(recorded.get('sha256'))[:12]})"
        raise PromptMismatch(
            f"prompt format mismatch: {folder} was trained with {was}, this run uses {fmt.describe()}; "
            "pass --prompt-style or --prompt-template explicitly to use another format"
        )
