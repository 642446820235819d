"""The LLM judge of `curate classify`: the paper's five prompts per document, or one combined prompt.

- "paper": four behavior prompts plus the problem/solution prompt, each with the document last, as the paper
  sent them (templates/curate/judge/{behavior}.jinja and is_solution.jinja).
- "combined": one prompt with the document first (a prefix providers can cache) asking for all six labels at
  once (templates/curate/judge/combined.jinja): about a quarter of the input tokens.

Answers are parsed strictly but tolerantly: `<count>2</count>`, `<count> 2 </count>`, `<COUNT>[2]</COUNT>` and a
"## Number of ... steps" heading followed by the number all count; anything else is a LabelError with the reason,
never a 0 (the paper's regex turned its own spaced format into None, silently).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS, DocumentLabels, LabelError
from cogbeh.curate.requests import PromptedStep, Result, answer_problem
from cogbeh.templating import render

PROMPT_MODES = ("paper", "combined")
SYSTEM_TEMPLATE = "curate/judge/system.jinja"
SOLUTION = "is_solution"

_TAG = r"<\s*{name}\s*>(.*?)<\s*/\s*{name}\s*>"
_NOISE = re.compile(r"</?\s*count\s*>|[*_`\[\]\"']", re.IGNORECASE)
_HEADING = r"^[ \t>#*_-]*{words}\b(?P<rest>[^\n]*)$"
_COUNT_HEADING = re.compile(_HEADING.format(words=r"number\s+of"), re.IGNORECASE | re.MULTILINE)
_YES_NO_HEADING = {what: re.compile(_HEADING.format(words=rf"(?:does\s+(?:the\s+)?(?:text\s+)?)?contains?\s+"
                                                         rf"(?:an?\s+)?{what}"), re.IGNORECASE | re.MULTILINE)
                   for what in ("problem", "solution")}


def _snippet(answer: str) -> str:
    return repr(" ".join(answer.split())[:80])


def _last_tag(answer: str, name: str) -> str | None:
    found = re.findall(_TAG.format(name=re.escape(name)), answer, flags=re.IGNORECASE | re.DOTALL)
    return found[-1] if found else None


def _as_int(value: str) -> int | None:
    cleaned = _NOISE.sub("", value).strip().rstrip(".").strip()
    return int(cleaned) if re.fullmatch(r"\d{1,5}", cleaned) else None


def _as_bool(value: str) -> bool | None:
    cleaned = _NOISE.sub("", value).strip().rstrip(".!").strip().lower()
    return {"yes": True, "no": False}.get(cleaned)


def _after_heading(answer: str, match: re.Match[str]) -> str | None:
    """The value a heading introduces: after its ':' or '?' on the same line, else the next non-empty line."""
    rest = match.group("rest")
    cut = max(rest.rfind(":"), rest.rfind("?"))
    if cut >= 0 and _NOISE.sub("", rest[cut + 1:]).strip():
        return rest[cut + 1:]
    return next((line for line in answer[match.end():].splitlines() if line.strip()), None)


def parse_count(answer: str) -> int | LabelError:
    """The count in one behavior answer: the last <count> tag, else the last "Number of ..." heading's value."""
    tagged = _last_tag(answer, "count")
    if tagged is not None:
        value = _as_int(tagged)
        return value if value is not None else LabelError(f"count is not a whole number: {_snippet(tagged)}")
    for match in reversed(list(_COUNT_HEADING.finditer(answer))):
        after = _after_heading(answer, match)
        value = _as_int(after) if after is not None else None
        if value is not None:
            return value
    return LabelError(f"no <count>N</count> in answer: {_snippet(answer)}")


def parse_yes_no(answer: str, what: str) -> bool | LabelError:
    """Whether the answer says the document contains a `what` ("problem" or "solution"): a tag or a heading."""
    tagged = _last_tag(answer, f"contains_{what}")
    if tagged is not None:
        value = _as_bool(tagged)
        return value if value is not None else LabelError(f"contains_{what} is not yes/no: {_snippet(tagged)}")
    for match in reversed(list(_YES_NO_HEADING[what].finditer(answer))):
        after = _after_heading(answer, match)
        value = _as_bool(after) if after is not None else None
        if value is not None:
            return value
    return LabelError(f"no yes/no for 'contains {what}' in answer: {_snippet(answer)}")


def parse_solution(answer: str) -> tuple[bool, bool] | LabelError:
    """(contains_problem, contains_solution) from the problem/solution answer."""
    problem, solution = parse_yes_no(answer, "problem"), parse_yes_no(answer, "solution")
    if isinstance(problem, LabelError):
        return problem
    if isinstance(solution, LabelError):
        return solution
    return problem, solution


def parse_combined(answer: str) -> DocumentLabels | LabelError:
    """All six labels from one combined answer; the first missing or malformed one is the error."""
    counts: dict[str, int] = {}
    for behavior in BEHAVIORS:
        field = COUNT_FIELDS[behavior]
        tagged = _last_tag(answer, field)
        if tagged is None:
            return LabelError(f"no <{field}> in answer: {_snippet(answer)}")
        value = _as_int(tagged)
        if value is None:
            return LabelError(f"{field} is not a whole number: {_snippet(tagged)}")
        counts[behavior] = value
    found = parse_solution(answer)
    if isinstance(found, LabelError):
        return found
    return DocumentLabels(counts, *found)


class LLMLabeler(PromptedStep):
    """A Labeler backed by an LLM: `label(texts)` -> DocumentLabels or LabelError per text, in input order.

    Options beyond the engine's: `prompts` ("paper": 5 requests per document, "combined": 1), `template_dir`
    (a folder mirroring templates/, for your own wording). Temperature 0 as the paper; pass None for models that
    refuse a temperature. See RequestEngine for the cache, cost cap and batch options.
    """

    def __init__(self, provider: str, model: str, *, prompts: str = "paper", base_url: str | None = None,
                 cache_dir: str | Path | None = None, rank: int = 0, max_cost: float | None = None,
                 batch: bool = False, concurrency: int | None = 8, max_tokens: int = 1024,
                 temperature: float | None = 0.0, timeout: float = 60.0, retries: int = 5,
                 template_dir: str | None = None, poll_interval: float = 30.0,
                 prices: str | Path | None = None) -> None:
        if prompts not in PROMPT_MODES:
            raise ValueError(f"prompts must be one of {', '.join(PROMPT_MODES)}, got {prompts!r}")
        super().__init__(provider, model, base_url=base_url, cache_dir=cache_dir, rank=rank, max_cost=max_cost,
                         batch=batch, concurrency=concurrency, max_tokens=max_tokens, temperature=temperature,
                         timeout=timeout, retries=retries, template_dir=template_dir, poll_interval=poll_interval,
                         prices=prices)
        self.mode = prompts
        self.name = f"{provider}:{model}:{prompts}"

    def prompts(self, text: str) -> list[tuple[str, str, str]]:
        """(kind, system, user) per request: the document is a template variable, never template source."""
        root = self.template_dir
        system = render(SYSTEM_TEMPLATE, root=root).strip()
        if self.mode == "combined":
            return [("combined", system, render("curate/judge/combined.jinja", root=root, document=text).strip())]
        return [(name, system, render(f"curate/judge/{name}.jinja", root=root, document=text).strip())
                for name in (*BEHAVIORS, SOLUTION)]

    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]:
        """Labels per text, in input order. Raises on a fault that outlived its retries, or CostCapReached."""
        return [LabelError(plan) if isinstance(plan, str) else self._labels(plan) for plan in self._ask(texts)]

    def _labels(self, answers: list[tuple[str, Result]]) -> DocumentLabels | LabelError:
        for kind, result in answers:
            problem = answer_problem(kind, result, self.max_tokens)
            if problem is not None:
                return LabelError(problem)
        texts = {kind: result.text for kind, result in answers}  # type: ignore[union-attr]
        if self.mode == "combined":
            found = parse_combined(texts["combined"])
            return found if isinstance(found, DocumentLabels) else LabelError(f"combined: {found.reason}")
        counts: dict[str, int] = {}
        for behavior in BEHAVIORS:
            value = parse_count(texts[behavior])
            if isinstance(value, LabelError):
                return LabelError(f"{behavior}: {value.reason}")
            counts[behavior] = value
        solution = parse_solution(texts[SOLUTION])
        if isinstance(solution, LabelError):
            return LabelError(f"{SOLUTION}: {solution.reason}")
        return DocumentLabels(counts, *solution)
