"""--dry-run: the rendered prompts for the first few problems and a cost estimate; no connection, no files."""

from __future__ import annotations

from itertools import islice

from cogbeh.countdown import Problem, iter_problems
from cogbeh.llm.cost import estimate_tokens, load_prices
from cogbeh.llm.job import LLMJob
from cogbeh.llm.prompts import system_prompt, user_prompt
from cogbeh.llm.types import Usage

#: Output tokens of a typical trace (the paper's Sonnet traces ran a few hundred tokens), for the low estimate.
TYPICAL_OUTPUT_TOKENS = 400


def _problems(job: LLMJob, count: int) -> list[Problem]:
    source = iter(job.problems) if job.problems is not None else iter_problems(preset=job.preset, seed=job.seed)
    return list(islice(source, count))


def dry_run(job: LLMJob, *, show: int = 3) -> str:
    """Text to print: system prompt once, the first `show` user prompts, and what n records may cost."""
    system = system_prompt(job.behaviors, root=job.template_dir)
    problems = _problems(job, max(show, 20))
    users = [user_prompt(p, root=job.template_dir) for p in problems]
    lines = [f"# dry run: {job.provider}:{job.model}, condition {job.condition}, n={job.n}", "", "## system prompt",
             system.rstrip(), ""]
    for number, (problem, user) in enumerate(zip(problems[:show], users, strict=False), start=1):
        lines += [f"## user prompt {number} (problem {problem.id})", user, ""]
    lines += estimate_lines(job, system, users)
    return "\n".join(lines) + "\n"


def estimate_lines(job: LLMJob, system: str, users: list[str]) -> list[str]:
    """Low (every answer accepted, typical length) and high (attempt budget, max_tokens) cost estimates."""
    prices = load_prices(job.prices)
    price = prices.price(job.provider, job.model)
    if price is None:
        return [f"cost: no price for {job.model!r} in price table {prices.version}; pass --prices FILE"]
    user_tokens = sum(estimate_tokens(u) for u in users) / max(1, len(users))
    system_tokens = estimate_tokens(system)
    # Anthropic caches the shared system prompt: one write, then reads; OpenAI caches automatically, uncounted here.
    cached = job.provider == "anthropic"

    def cost(requests: int, output: int) -> float:
        usage = Usage(
            input_tokens=int(requests * (user_tokens + (0 if cached else system_tokens))),
            output_tokens=requests * output,
            cache_write_tokens=system_tokens if cached else 0,
            cache_read_tokens=(requests - 1) * system_tokens if cached else 0,
        )
        return prices.cost(job.provider, job.model, usage, batch=job.batch) or 0.0

    budget = job.attempt_budget()
    mode = "batch (discounted)" if job.batch else "online"
    return [
        f"## cost estimate ({mode}, prices {prices.version}, ~{system_tokens} system + ~{user_tokens:.0f} user "
        "tokens per request)",
        f"low:  ${cost(job.n, TYPICAL_OUTPUT_TOKENS):.4f}  ({job.n} requests, all accepted, "
        f"~{TYPICAL_OUTPUT_TOKENS} output tokens each)",
        f"high: ${cost(budget, job.max_tokens):.4f}  ({budget} requests = attempt budget, {job.max_tokens} "
        "output tokens each)",
        f"--max-cost: {job.max_cost if job.max_cost is not None else 'not set'}",
    ]
