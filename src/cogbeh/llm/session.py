"""One LLM run folder: prompts and cache keys per candidate, judging, ordered commit of records and rejections."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.countdown import Problem, iter_problems
from cogbeh.llm.cache import ResponseCache, cache_key
from cogbeh.llm.cost import PriceTable, estimate_tokens, load_prices
from cogbeh.llm.job import LLMJob, check_resumable, save_job
from cogbeh.llm.prompts import prompts_hash, record_prompt, system_prompt, user_prompt
from cogbeh.llm.types import Completion, ProviderError, Request, Usage
from cogbeh.records import Record, TokenUsage
from cogbeh.runfiles import RECORDS, REJECTED, append_handle, prepare, valid_lines

CountFn = Callable[[str], dict[str, int]]


@dataclass(frozen=True)
class Outcome:
    """The verdict on one candidate index: a record line or a rejection line."""

    index: int
    record: Record | None
    rejection: dict[str, Any] | None


@dataclass
class Tally:
    """What happened on the wire in this process."""

    sent: int = 0  # HTTP attempts, retries included
    answered: int = 0  # responses paid for (cached before use)
    cache_hits: int = 0
    retried: int = 0
    failed: int = 0  # requests that failed for good
    errors: Counter[str] = field(default_factory=Counter)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    served_models: set[str] = field(default_factory=set)


class Session:
    """State of one run: what is committed, what is buffered, what has been paid."""

    def __init__(self, job: LLMJob, *, count: CountFn | None = None) -> None:
        self.job = job
        self.prices: PriceTable = load_prices(job.prices)
        self.template_hash = prompts_hash(root=job.template_dir)
        self.system = system_prompt(job.behaviors, root=job.template_dir)
        self._count = count
        self._problems: list[Problem] = []
        self._requests: dict[int, tuple[str, Request, Problem]] = {}  # until judged: rendering is not free
        self._stream: Iterator[Problem] = self._problem_stream()
        self._lock = prepare(job.out, resume=job.resume, overwrite=job.overwrite)  # one writer, until release()
        try:
            check_resumable(job)
            save_job(job)
            self.cache = ResponseCache(job.cache_path())
            self.tally = Tally()
            self._load_committed()
        except BaseException:
            self._lock.release()
            raise
        self.buffer: dict[int, Outcome] = {}
        self._records = append_handle(job.out / RECORDS)
        self._rejected = append_handle(job.out / REJECTED)
        self.on_commit: Callable[[Outcome], None] | None = None
        self.error = ""

    def _problem_stream(self) -> Iterator[Problem]:
        job = self.job
        source = iter(job.problems) if job.problems is not None else iter_problems(preset=job.preset, seed=job.seed)
        return islice(source, job.attempt_budget())

    def _load_committed(self) -> None:
        kept = [json.loads(line) for line in valid_lines(self.job.out / RECORDS)]
        rejected = [json.loads(line) for line in valid_lines(self.job.out / REJECTED)]
        if len(kept) > self.job.n:
            raise ValueError(f"{self.job.out / RECORDS} already holds {len(kept)} records, more than -n {self.job.n}")
        indices = [row["index"] for row in kept + rejected]
        if len(indices) != len(set(indices)):
            raise ValueError(f"{self.job.out} has an index in both records and rejections; use --overwrite")
        self.accepted = len(kept)
        self.frontier = max(indices) + 1 if indices else 0
        self.reasons: Counter[str] = Counter(row["reason"].split(":", 1)[0] for row in rejected)
        self.finished = len(indices)

    # -- candidates ---------------------------------------------------------------------------------------------
    def problem(self, index: int) -> Problem | None:
        """Candidate `index`'s problem, or None past the attempt budget."""
        while len(self._problems) <= index:
            nxt = next(self._stream, None)
            if nxt is None:
                return None
            self._problems.append(nxt)
        return self._problems[index]

    def request(self, index: int) -> tuple[str, Request, Problem]:
        """Cache key, request and problem of candidate `index` (which must be within the budget)."""
        if index in self._requests:
            return self._requests[index]
        problem = self.problem(index)
        if problem is None:
            raise IndexError(index)
        job = self.job
        req = Request(self.system, user_prompt(problem, root=job.template_dir), job.model, job.max_tokens,
                      job.temperature)
        key = cache_key(provider=job.provider, model=job.model, system=req.system, user=req.user,
                        params=req.params(), template_hash=self.template_hash, problem_id=problem.id,
                        sample_index=index)
        self._requests[index] = (key, req, problem)
        return key, req, problem

    def estimate_cost(self, req: Request, *, batch: bool = False) -> float:
        """Worst-case dollars for one request (output at max_tokens), 0.0 for an unpriced model."""
        usage = Usage(input_tokens=estimate_tokens(req.system + req.user), output_tokens=req.max_tokens)
        return self.prices.cost(self.job.provider, self.job.model, usage, batch=batch) or 0.0

    # -- paying and judging -------------------------------------------------------------------------------------
    def _account(self, completion: Completion, *, batch: bool) -> float | None:
        job = self.job
        cost = self.prices.cost(job.provider, completion.model or job.model, completion.usage, batch=batch)
        if cost is None:
            cost = self.prices.cost(job.provider, job.model, completion.usage, batch=batch)
        t = self.tally
        t.answered += 1
        t.usage += completion.usage
        t.cost += cost or 0.0
        t.served_models.add(completion.model)
        return cost

    def paid(self, key: str, index: int, completion: Completion, *, batch: bool, sync: bool = True) -> None:
        """Cache a fresh response (fsynced unless the caller syncs a group later) and account for it."""
        cost = self._account(completion, batch=batch)
        self.cache.put(key, completion, sync=sync, index=index, mode="batch" if batch else "online", cost_usd=cost)

    async def paid_durable(self, key: str, index: int, completion: Completion) -> None:
        """`paid` for online responses: the fsync is shared with concurrent responses and runs off the loop."""
        cost = self._account(completion, batch=False)
        await self.cache.put_durable(key, completion, index=index, mode="online", cost_usd=cost)

    def judge(self, index: int, result: Completion | ProviderError) -> Outcome:
        """Accept or reject candidate `index` given its response (or its final error)."""
        from cogbeh.validate import assess

        _, _, problem = self.request(index)
        self._requests.pop(index, None)
        if isinstance(result, ProviderError):
            return self._reject(index, problem, f"api_error: {result.kind}: {result}", None)
        text = result.text.strip()
        if result.stop_reason in ("max_tokens", "length"):
            return self._reject(index, problem, f"truncated: stopped at max_tokens {self.job.max_tokens}", text)
        # --no-behavior-filter matches the paper exactly: it kept every well-formed trace, slips included.
        verdict = assess(problem, text, self.job.behaviors, count=self._counter(),
                         behavior_filter=self.job.behavior_filter, expect_correct=self.job.expect_correct,
                         arithmetic_check=self.job.behavior_filter)
        if verdict.reason is not None:
            return self._reject(index, problem, verdict.reason, text)
        return Outcome(index, self._record(index, problem, text, verdict, result.usage), None)

    def _counter(self) -> CountFn:
        if self._count is None:
            from cogbeh.classify import count_behaviors

            self._count = count_behaviors
        return self._count

    def _record(self, index: int, problem: Problem, text: str, verdict: Any, usage: Usage) -> Record:
        job = self.job
        return Record(
            id=f"{job.condition}-{job.seed}-{index}", condition=job.condition,
            behaviors=[b for b in BEHAVIORS if b in job.behaviors], nums=list(problem.nums), target=problem.target,
            prompt=record_prompt(problem, root=job.template_dir), completion=text, answer=verdict.answer,
            correct=verdict.correct, behavior_counts=verdict.counts, provider=job.provider, model=job.model,
            seed=job.seed, index=index, problem_id=problem.id, template_hash=self.template_hash,
            usage=TokenUsage(**asdict(usage)),
        )

    def _reject(self, index: int, problem: Problem, reason: str, text: str | None) -> Outcome:
        row = {"index": index, "problem_id": problem.id, "nums": list(problem.nums), "target": problem.target,
               "reason": reason, "completion": text}
        return Outcome(index, None, row)

    # -- ordered commit -----------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Exactly n records are committed."""
        return self.accepted >= self.job.n

    def buffered_accepts(self) -> int:
        """Accepted outcomes waiting for a lower index to finish."""
        return sum(o.record is not None for o in self.buffer.values())

    def acceptance_rate(self) -> float:
        """Smoothed share of finished candidates that were accepted, used to size over-generation."""
        finished = self.finished + len(self.buffer)
        accepted = self.accepted + self.buffered_accepts()
        return min(1.0, max(0.05, (accepted + 1) / (finished + 1)))

    def offer(self, outcome: Outcome) -> None:
        """Buffer an outcome and commit every contiguous one from the frontier on, line by line."""
        self.buffer[outcome.index] = outcome
        while not self.done and self.frontier in self.buffer:
            current = self.buffer.pop(self.frontier)
            if current.record is not None:
                self._records.write(current.record.to_json_line() + "\n")
                self._records.flush()
                self.accepted += 1
            else:
                row = current.rejection or {"index": current.index, "reason": "unknown"}
                self._rejected.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
                self._rejected.flush()
                self.reasons[row["reason"].split(":", 1)[0]] += 1
            self.finished += 1
            self.frontier += 1
            if self.on_commit is not None:
                self.on_commit(current)

    def close(self) -> None:
        """Close the append handles (the cache too); the folder stays locked until `release`."""
        self._records.close()
        self._rejected.close()
        self.cache.close()

    def release(self) -> None:
        """Let another process write the folder (after the manifest is written)."""
        self._lock.release()
