"""The LLM rewrite of `curate rewrite`: a document split into <question>, <thoughts> and <answer>.

"rich" keeps the writer's process as first-person, present-tense thinking out loud, mistakes, their realisation,
backtracking, verification and subgoals included; "minimal" gives plain solution steps with none of those
behaviors (templates/curate/rewrite/{rich,minimal}.jinja). Checking a rewrite against its document (question
present, behaviors, answer preserved) is the caller's job; this module only asks and parses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cogbeh.curate.labels import LabelError
from cogbeh.curate.requests import PromptedStep, Result, answer_problem
from cogbeh.templating import render

STYLES = ("rich", "minimal")
SYSTEM_TEMPLATE = "curate/rewrite/system.jinja"
PARTS = ("question", "thoughts", "answer")


@dataclass(frozen=True)
class Rewritten:
    """One rewritten document; `raw` is the model's whole answer, kept for audits."""

    question: str
    thoughts: str
    answer: str
    raw: str


def parse_rewrite(raw: str) -> Rewritten | LabelError:
    """Exactly one non-empty <question>, <thoughts> and <answer> each, else a LabelError saying which is wrong."""
    found: dict[str, str] = {}
    for part in PARTS:
        opened = len(re.findall(rf"<{part}>", raw))
        closed = len(re.findall(rf"</{part}>", raw))
        if opened != 1 or closed != 1:
            return LabelError(f"rewrite needs exactly one <{part}>...</{part}>, found {opened} opening and "
                              f"{closed} closing tag(s)")
        match = re.search(rf"<{part}>(.*?)</{part}>", raw, flags=re.DOTALL)
        if match is None:
            return LabelError(f"rewrite's </{part}> comes before its <{part}>")
        found[part] = match.group(1).strip()
        if not found[part]:
            return LabelError(f"rewrite's <{part}> is empty")
        if any(f"<{other}>" in found[part] for other in PARTS if other != part):
            return LabelError(f"rewrite's <{part}> contains another part's tag")
    return Rewritten(found["question"], found["thoughts"], found["answer"], raw)


class Rewriter(PromptedStep):
    """Rewrites documents into question / thoughts / answer: `rewrite(texts)` -> Rewritten or LabelError per text.

    One request per document; temperature 0 and max_tokens 5120 as the paper. See RequestEngine for the cache,
    cost cap and batch options.
    """

    def __init__(self, provider: str, model: str, *, style: str = "rich", base_url: str | None = None,
                 cache_dir: str | Path | None = None, rank: int = 0, max_cost: float | None = None,
                 batch: bool = False, concurrency: int | None = 8, max_tokens: int = 5120,
                 temperature: float | None = 0.0, timeout: float = 120.0, retries: int = 5,
                 template_dir: str | None = None, poll_interval: float = 30.0,
                 prices: str | Path | None = None) -> None:
        if style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
        super().__init__(provider, model, base_url=base_url, cache_dir=cache_dir, rank=rank, max_cost=max_cost,
                         batch=batch, concurrency=concurrency, max_tokens=max_tokens, temperature=temperature,
                         timeout=timeout, retries=retries, template_dir=template_dir, poll_interval=poll_interval,
                         prices=prices)
        self.style = style
        self.name = f"{provider}:{model}:{style}"

    def prompts(self, text: str) -> list[tuple[str, str, str]]:
        """The one (kind, system, user) request of a document: the document is a variable, never template source."""
        root = self.template_dir
        system = render(SYSTEM_TEMPLATE, root=root).strip()
        user = render(f"curate/rewrite/{self.style}.jinja", root=root, document=text).strip()
        return [(f"rewrite:{self.style}", system, user)]

    def rewrite(self, texts: Sequence[str]) -> list[Rewritten | LabelError]:
        """One result per text, in input order. Raises on a fault that outlived its retries, or CostCapReached."""
        return [LabelError(plan) if isinstance(plan, str) else self._parse(plan) for plan in self._ask(texts)]

    def _parse(self, answers: list[tuple[str, Result]]) -> Rewritten | LabelError:
        (kind, result), = answers
        problem = answer_problem(kind, result, self.max_tokens)
        if problem is not None:
            return LabelError(problem)
        return parse_rewrite(result.text)  # type: ignore[union-attr]
