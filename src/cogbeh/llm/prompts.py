"""System and user prompts for any behavior combination, rendered from templates/prompts/llm/."""

from __future__ import annotations

from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS
from cogbeh.countdown import Problem
from cogbeh.templating import directory_hash, render

SYSTEM_TEMPLATE = "prompts/llm/system.jinja"
USER_TEMPLATE = "prompts/llm/user.jinja"
QUERY_TEMPLATE = "prompts/query.jinja"


@dataclass(frozen=True)
class Prompt:
    """A rendered request: the condition's shared system prompt and the problem's user turn."""

    system: str
    user: str


def system_prompt(behaviors: frozenset[str], *, root: str | None = None) -> str:
    """The condition's system prompt: must-do and must-not-do blocks, format, a tiny example."""
    wanted = [b for b in BEHAVIORS if b in behaviors]
    unwanted = [b for b in BEHAVIORS if b not in behaviors]
    return render(SYSTEM_TEMPLATE, root=root, wanted=wanted, unwanted=unwanted).strip() + "\n"


def user_prompt(problem: Problem, *, root: str | None = None) -> str:
    """The user turn: the same query the record's `prompt` field holds."""
    return render(USER_TEMPLATE, root=root, nums=problem.nums, target=problem.target).strip()


def record_prompt(problem: Problem, *, root: str | None = None) -> str:
    """The record's `prompt` field, rendered exactly as the symbolic pipeline renders it."""
    return render(QUERY_TEMPLATE, root=root, nums=problem.nums, target=problem.target)


def build_prompt(behaviors: frozenset[str], problem: Problem, *, root: str | None = None) -> Prompt:
    """Both prompts for one problem."""
    return Prompt(system_prompt(behaviors, root=root), user_prompt(problem, root=root))


def prompts_hash(*, root: str | None = None) -> str:
    """Hash over every prompt template (a changed template invalidates the cache and shows in the manifest)."""
    return directory_hash("prompts", root=root)
