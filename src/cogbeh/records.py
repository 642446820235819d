"""The row we publish (Record) and the run manifest, validated at the boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cogbeh.behaviors import BEHAVIORS


class TokenUsage(BaseModel):
    """Token usage of the paid response a record came from (LLM providers only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Record(BaseModel):
    """One priming example. Key order here is the key order in records.jsonl."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="unique within a run: '<condition>-<seed>-<index>' (+ control suffix)")
    condition: str = Field(description="canonical condition, e.g. 'backtracking+verification'")
    behaviors: list[str]
    nums: list[int]
    target: int
    prompt: str = Field(description="the user query, rendered from templates/prompts/query.jinja")
    completion: str = Field(description="'<think>...</think>\\n<answer>...</answer>'")
    answer: str | None = Field(description="the expression inside the last <answer> tag, if any")
    correct: bool
    behavior_counts: dict[str, int] = Field(description="the four behaviors, counted by the rule classifier")
    provider: str = Field(description="'symbolic', 'anthropic' or 'openai'")
    model: str | None
    seed: int
    index: int
    problem_id: str
    control: str | None = None
    template_hash: str | None = None
    usage: TokenUsage | None = None

    def to_json_line(self) -> str:
        """Compact JSON, keys in schema order, non-ASCII kept: byte-stable across processes."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def zero_counts() -> dict[str, int]:
    """A behavior_counts dict with every behavior at 0."""
    return {b: 0 for b in BEHAVIORS}


def read_records(path: str | Path) -> Iterator[Record]:
    """Records from a JSONL file; a torn last line (a crash mid-write) is skipped, any other bad line raises."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield Record.model_validate_json(line)
        except ValueError:
            if number == len(lines):  # the file did not end in a newline: the last write was cut off
                return
            raise ValueError(f"{path}:{number}: not a valid record") from None
