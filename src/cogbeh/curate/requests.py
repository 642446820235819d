"""The one request engine under the curate judge and rewriter: cache, concurrency, retries, cost cap, batches.

It is built from the project's LLM engine parts (providers, Limiter, with_retries, ResponseCache, PriceTable) and
adds what a corpus run spread over datatrove tasks needs:

- one cache file per task rank (`cache_dir/responses-{rank:05d}.jsonl`), so parallel tasks never append to the
  same file, while lookups read every rank's file, so a re-sharded rerun never pays for an answer twice;
- a dollar cap checked before every launch;
- a provider-batch mode whose batch handles are on disk (`cache_dir/batches-{rank:05d}.jsonl`) the moment they
  exist, so a killed process picks its batch up again instead of paying for a second one.

The engine is picklable until first used (datatrove pickles pipeline steps): the SDK client is made inside each
`run` call, and the open cache file is left out of the pickled state.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cogbeh.llm.base import Provider
from cogbeh.llm.cache import ResponseCache, cache_key
from cogbeh.llm.cost import PriceTable, estimate_tokens, load_prices
from cogbeh.llm.limiter import Limiter
from cogbeh.llm.providers import PROVIDERS, make_provider
from cogbeh.llm.retry import RetryPolicy, with_retries
from cogbeh.llm.types import Completion, ProviderError, Request, Usage

RESPONSES = "responses-{rank:05d}.jsonl"
BATCHES = "batches-{rank:05d}.jsonl"
#: Requests per provider batch (Anthropic allows 100,000 and OpenAI 50,000; smaller batches finish sooner).
BATCH_LIMIT = 10_000
#: A request whose batch result errored or expired this many times becomes that item's error.
MAX_BATCH_TRIES = 3
#: Errors after which a batch create certainly did not happen (a timeout might hide a created batch: never retried).
_NOT_CREATED = frozenset({"rate_limit", "overloaded", "server"})
#: Requests in flight per engine (per datatrove task) when the caller does not say.
DEFAULT_CONCURRENCY = 8
#: Marks the cache entries of this engine (the main job's cache keys use problem ids; ours use the request kind).
TEMPLATE_TAG = "curate"

Result = Completion | ProviderError


class CostCapReached(RuntimeError):
    """`max_cost` would be passed by the next launch: nothing more was sent (what was paid is in the cache)."""

    def __init__(self, spent: float, max_cost: float, unsent: int) -> None:
        super().__init__(f"max cost ${max_cost:.4f} reached: ${spent:.4f} paid so far, {unsent} request(s) not sent;"
                         " raise the cap and run again (answers already paid come from the cache)")
        self.spent, self.max_cost, self.unsent = spent, max_cost, unsent


def request_key(provider: str, request: Request, *, kind: str) -> str:
    """The cache key of one request: everything that shapes the answer, plus the kind of question asked."""
    return cache_key(provider=provider, model=request.model, system=request.system, user=request.user,
                     params=request.params(), template_hash=TEMPLATE_TAG, problem_id=kind, sample_index=0)


class _OtherRanks:
    """Read-only view of the other ranks' cache files, read incrementally (only bytes appended since last time).

    Never opened for writing and never truncated: another task may be appending to them right now, so a torn
    last line is simply left for the next refresh."""

    def __init__(self, folder: Path, own: Path) -> None:
        self.folder, self.own = folder, own
        self.entries: dict[str, Completion] = {}
        self.cost = 0.0
        self._offsets: dict[Path, int] = {}

    def refresh(self) -> None:
        for path in sorted(self.folder.glob("responses-*.jsonl")):
            if path == self.own:
                continue
            start = self._offsets.get(path, 0)
            with path.open("rb") as handle:
                handle.seek(start)
                data = handle.read()
            whole = data[: data.rfind(b"\n") + 1]  # up to the last complete line
            self._offsets[path] = start + len(whole)
            for line in whole.decode("utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    completion = Completion.from_dict(entry["completion"])
                except (ValueError, KeyError, TypeError):
                    continue  # damaged line: that answer is simply not reused
                self.entries.setdefault(entry["key"], completion)
                self.cost += float(entry.get("cost_usd") or 0.0)


class _Ledger:
    """This rank's batch handles: one fsynced JSON line per event, so a batch id is on disk as soon as it exists."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.created: dict[str, dict[str, Any]] = {}
        self.collected: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    event = json.loads(line)
                    if event["event"] == "created":
                        self.created[event["id"]] = event
                    elif event["event"] == "collected":
                        self.collected.add(event["id"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line after kill -9

    def append(self, event: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({**event, "time": round(time.time(), 3)}, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if event["event"] == "created":
            self.created[event["id"]] = event
        elif event["event"] == "collected":
            self.collected.add(event["id"])

    def pending(self, provider: str) -> list[dict[str, Any]]:
        """Batches of `provider` not collected yet (another provider's batches wait for a run with that one)."""
        return [event for batch_id, event in self.created.items()
                if batch_id not in self.collected and event.get("provider") == provider]

    def tries(self) -> Counter[str]:
        """How many batches each cache key has been submitted in."""
        return Counter(key for event in self.created.values() for key in event["keys"])


class RequestEngine:
    """Sends (key, Request) pairs and returns one Completion or ProviderError per pair, in order.

    - Cached answers (this rank's file or any other rank's in `cache_dir`) are returned without a request; a
      key asked twice in one call is sent once.
    - Online: up to `concurrency` requests in flight, `retries` retries of retryable errors with backoff.
      Every answer is fsynced into this rank's cache file before it is used.
    - `max_cost` (dollars) is checked before each launch: what every cache file in `cache_dir` records as paid,
      plus the worst case (estimated input, `max_tokens` output) of what is in flight, plus the next request.
      When the next one does not fit, nothing more is launched and `CostCapReached` is raised once the requests
      in flight are cached. Parallel tasks only see each other's *paid* answers, so together they can overshoot
      the cap by what they have in flight at the same moment (at most tasks x concurrency requests).
    - `batch=True` (needs `cache_dir`; `estimate` works without): the uncached requests of one call go out as one provider batch (split above BATCH_LIMIT);
      its handle is written to `cache_dir` before anything else happens, a later call (in this or a new process)
      polls a pending batch every `poll_interval` seconds and collects it into the cache rather than resubmitting.
    - A fault that outlives its retries (connection, 5xx, 429, timeouts, a wrong key) raises ProviderError:
      the caller stops, and a rerun resumes from the cache. Only a 4xx refusing one prompt, once other requests
      have been answered, is returned as that item's error.
    """

    def __init__(self, provider: str, model: str, *, base_url: str | None = None,
                 cache_dir: str | Path | None = None, rank: int = 0, max_cost: float | None = None,
                 batch: bool = False, concurrency: int | None = 8, timeout: float = 60.0, retries: int = 5,
                 backoff: float = 0.5, retry_after_cap: float = 60.0, poll_interval: float = 30.0,
                 prices: str | Path | None = None) -> None:
        concurrency = DEFAULT_CONCURRENCY if concurrency is None else concurrency  # None: an option not given
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
        if concurrency < 1 or retries < 0 or rank < 0 or poll_interval < 0:
            raise ValueError("concurrency must be >= 1, retries, rank and poll_interval >= 0")
        if max_cost is not None and max_cost < 0:
            raise ValueError(f"max_cost must be >= 0 dollars, got {max_cost}")
        self.provider, self.model, self.base_url = provider, model, base_url
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.rank, self.max_cost, self.batch = rank, max_cost, batch
        self.concurrency, self.timeout, self.retries = concurrency, timeout, retries
        self.backoff, self.retry_after_cap, self.poll_interval = backoff, retry_after_cap, poll_interval
        self.prices_file = prices
        self._prices: PriceTable | None = None
        if max_cost is not None and self.price_table().price(provider, model) is None:
            raise ValueError(f"max_cost needs a price for {provider}:{model}, which the price table "
                             f"{self.price_table().version} lacks; pass a prices file")
        # Counters over this engine's life (all calls of this process).
        self.sent = 0  # requests sent: HTTP tries online (retries included), requests submitted in batches
        self.cache_hits = 0
        self.answered = 0  # fresh answers received
        self.cost = 0.0  # dollars of those fresh answers
        self._cache: ResponseCache | None = None
        self._others: _OtherRanks | None = None

    # -- pickling: datatrove ships steps to worker processes ---------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = state["_others"] = state["_prices"] = None  # an open file does not travel
        return state

    # -- public -------------------------------------------------------------------------------------------------
    @property
    def cache_path(self) -> Path | None:
        """This rank's cache file."""
        return self.cache_dir / RESPONSES.format(rank=self.rank) if self.cache_dir is not None else None

    def price_table(self) -> PriceTable:
        """The shipped price table, with `prices` laid over it (loaded once)."""
        if self._prices is None:
            self._prices = load_prices(self.prices_file)
        return self._prices

    def run(self, items: Sequence[tuple[str, Request]]) -> list[Result]:
        """One Completion or ProviderError per (key, request), in order; see the class docstring for what raises."""
        items = list(items)
        if not items:
            return []
        if self.batch and self.cache_dir is None:
            raise ValueError("batch mode needs a cache_dir: the batch handle must survive the process")
        try:
            return asyncio.run(self._run(items))
        except BaseException:
            self._reopen()  # an interrupted group fsync must not outlive its event loop
            raise

    def estimate(self, requests: Sequence[Request]) -> dict[str, Any]:
        """For a dry run: requests, estimated input tokens, worst-case output tokens and dollars (None: no price)."""
        table = self.price_table()
        input_tokens = sum(estimate_tokens(r.system + r.user) for r in requests)
        output_tokens = sum(r.max_tokens for r in requests)
        worst = None
        if table.price(self.provider, self.model) is not None:
            worst = table.cost(self.provider, self.model, Usage(input_tokens=input_tokens, output_tokens=output_tokens),
                               batch=self.batch)
        return {"requests": len(requests), "input_tokens": input_tokens, "max_output_tokens": output_tokens,
                "worst_case_usd": worst, "batch": self.batch, "prices": table.version}

    def spent(self) -> float:
        """Dollars recorded as paid: every rank's cache file in `cache_dir` (or this process without a cache)."""
        if self._cache is None or self._others is None:
            return self.cost
        return self._cache.total_cost() + self._others.cost

    def stats(self) -> dict[str, Any]:
        """Counters for a manifest."""
        return {"sent": self.sent, "cache_hits": self.cache_hits, "answered": self.answered,
                "cost_usd": round(self.cost, 6)}

    def close(self) -> None:
        """Close this rank's cache file (a later `run` opens it again)."""
        if self._cache is not None:
            self._cache.close()
        self._cache = self._others = None

    # -- cache --------------------------------------------------------------------------------------------------
    def _open(self) -> None:
        if self.cache_dir is None or self.cache_path is None:
            return
        if self._cache is None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._cache = ResponseCache(self.cache_path)
            self._others = _OtherRanks(self.cache_dir, self.cache_path)
        assert self._others is not None
        self._others.refresh()

    def _reopen(self) -> None:
        if self._cache is not None:
            self.close()

    def _lookup(self, key: str) -> Completion | None:
        if self._cache is None or self._others is None:
            return None
        return self._cache.get(key) or self._others.entries.get(key)

    def _dollars(self, completion: Completion, *, batch: bool) -> float | None:
        table = self.price_table()
        cost = table.cost(self.provider, completion.model or self.model, completion.usage, batch=batch)
        if cost is None:  # a dated model name the table does not know: price it as the requested model
            cost = table.cost(self.provider, self.model, completion.usage, batch=batch)
        self.cost += cost or 0.0
        return cost

    def _worst_case(self, request: Request, *, batch: bool) -> float:
        usage = Usage(input_tokens=estimate_tokens(request.system + request.user), output_tokens=request.max_tokens)
        return self.price_table().cost(self.provider, self.model, usage, batch=batch) or 0.0

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retries + 1, base=self.backoff, retry_after_cap=self.retry_after_cap)

    def _works(self) -> bool:
        """Evidence that this setup (key, model, parameters) is accepted: a 4xx now is about one prompt."""
        return self.answered > 0 or self.cache_hits > 0

    # -- one call -----------------------------------------------------------------------------------------------
    async def _run(self, items: list[tuple[str, Request]]) -> list[Result]:
        self._open()
        results: list[Result | None] = [None] * len(items)
        todo: dict[str, Request] = {}
        where: dict[str, list[int]] = defaultdict(list)
        for position, (key, request) in enumerate(items):
            hit = self._lookup(key)
            if hit is not None:
                self.cache_hits += 1
                results[position] = hit
            else:
                where[key].append(position)
                todo.setdefault(key, request)
        if todo:
            provider = make_provider(self.provider, base_url=self.base_url, timeout=self.timeout)
            try:
                fetched = await (self._run_batch(provider, todo) if self.batch else self._run_online(provider, todo))
            finally:
                await provider.aclose()
            for key, result in fetched.items():
                for position in where[key]:
                    results[position] = result
        missing = [p for p, r in enumerate(results) if r is None]
        if missing:  # a bug of ours, never a silent gap
            raise RuntimeError(f"no result for {len(missing)} request(s)")
        return results  # type: ignore[return-value]

    # -- online -------------------------------------------------------------------------------------------------
    async def _run_online(self, provider: Provider, todo: dict[str, Request]) -> dict[str, Result]:
        limiter = Limiter(concurrency=self.concurrency)
        policy = self._policy()
        queue = list(todo.items())
        fetched: dict[str, Result] = {}
        tasks: dict[asyncio.Task[Result], tuple[str, float]] = {}
        fault: ProviderError | None = None
        refused: list[tuple[str, ProviderError]] = []
        capped = False
        position = 0
        while True:
            while fault is None and not capped and position < len(queue) and len(tasks) < self.concurrency:
                if refused and not self._works():
                    break  # one refusal before any answer: wait for what is in flight to tell prompt from setup
                key, request = queue[position]
                worst = self._worst_case(request, batch=False)
                in_flight = sum(cost for _, cost in tasks.values())
                if self.max_cost is not None and self.spent() + in_flight + worst > self.max_cost:
                    capped = True
                    break
                tasks[asyncio.create_task(self._fetch(provider, limiter, policy, key, request))] = (key, worst)
                position += 1
            if not tasks:
                break
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                key, _ = tasks.pop(task)
                result = task.result()
                if isinstance(result, ProviderError) and result.kind == "request":
                    refused.append((key, result))
                elif isinstance(result, ProviderError):
                    fault = fault or result
                else:
                    fetched[key] = result
        if fault is not None:
            raise fault
        if refused and not self._works():
            raise refused[0][1]  # every request refused: the setup (model, parameters), not one prompt
        fetched.update(refused)
        if capped:
            raise CostCapReached(self.spent(), float(self.max_cost or 0.0), len(queue) - position)
        return fetched

    async def _fetch(self, provider: Provider, limiter: Limiter, policy: RetryPolicy, key: str,
                     request: Request) -> Result:
        tokens = estimate_tokens(request.system + request.user) + request.max_tokens

        async def attempt() -> Completion:
            async with limiter.slot(tokens):
                self.sent += 1
                try:
                    completion, rate = await provider.complete(request)
                except ProviderError as err:
                    if err.rate is not None:
                        limiter.observe(err.rate, next_tokens=tokens)
                    if err.kind == "rate_limit":  # everyone would get a 429 now: hold every new start
                        limiter.pause(min(err.retry_after or 1.0, policy.retry_after_cap))
                    raise
            limiter.observe(rate, next_tokens=tokens)
            return completion

        try:
            completion = await with_retries(attempt, policy=policy)
        except ProviderError as err:
            return err
        self.answered += 1
        cost = self._dollars(completion, batch=False)
        if self._cache is not None:
            await self._cache.put_durable(key, completion, mode="online", rank=self.rank, cost_usd=cost)
        return completion

    # -- batches ------------------------------------------------------------------------------------------------
    async def _run_batch(self, provider: Provider, todo: dict[str, Request]) -> dict[str, Result]:
        assert self.cache_dir is not None
        ledger = _Ledger(self.cache_dir / BATCHES.format(rank=self.rank))
        policy = self._policy()
        errors: dict[str, ProviderError] = {}
        await self._collect(provider, ledger, policy, errors)  # an earlier process's batch first
        fetched: dict[str, Result] = {}
        while True:
            tries = ledger.tries()
            chosen: list[tuple[str, Request]] = []
            spent, capped, unsent = self.spent(), False, 0
            for key, request in todo.items():
                if key in fetched:
                    continue
                hit = self._lookup(key)
                if hit is not None:
                    fetched[key] = hit
                    continue
                if tries[key] >= MAX_BATCH_TRIES:
                    fetched[key] = errors.get(key) or ProviderError("server", f"no result after {tries[key]} batches")
                    continue
                if capped or len(chosen) >= BATCH_LIMIT:
                    unsent += 1
                    continue
                worst = self._worst_case(request, batch=True)
                if self.max_cost is not None and spent + worst > self.max_cost:
                    capped, unsent = True, unsent + 1
                    continue
                spent += worst
                chosen.append((key, request))
            if chosen:
                # The custom id is the cache key itself (64 hex characters: both APIs accept it).
                handle = await with_retries(lambda chosen=chosen: provider.batch_submit(chosen), policy=policy,
                                            retry_on=_NOT_CREATED)
                self.sent += len(chosen)
                ledger.append({"event": "created", "id": handle["id"], "handle": handle, "provider": provider.name,
                               "keys": [key for key, _ in chosen]})
                await self._collect(provider, ledger, policy, errors)
            if capped and not chosen:
                raise CostCapReached(self.spent(), float(self.max_cost or 0.0), unsent)
            if not chosen and not unsent:
                break
        failed = {key: r for key, r in fetched.items() if isinstance(r, ProviderError)}
        if failed and not self._works():
            raise next(iter(failed.values()))  # nothing answered at all: a fault, not one prompt
        return fetched

    async def _collect(self, provider: Provider, ledger: _Ledger, policy: RetryPolicy,
                       errors: dict[str, ProviderError]) -> None:
        """Wait for every pending batch of this provider; cache each result (one fsync per batch)."""
        assert self._cache is not None
        while pending := ledger.pending(provider.name):
            for event in pending:
                handle = event["handle"]
                state = await with_retries(lambda handle=handle: provider.batch_state(handle), policy=policy)
                if not state.ended:
                    continue
                results = await with_retries(lambda handle=handle: provider.batch_results(handle), policy=policy)
                for key in event["keys"]:
                    result = results.get(key)
                    if isinstance(result, Completion):
                        self.answered += 1
                        if self._lookup(key) is None:
                            cost = self._dollars(result, batch=True)
                            self._cache.put(key, result, sync=False, mode="batch", batch_id=event["id"],
                                            rank=self.rank, cost_usd=cost)
                    else:
                        errors[key] = result or ProviderError("server", "batch result missing")
                self._cache.sync()
                ledger.append({"event": "collected", "id": event["id"], "status": state.status,
                               "counts": state.counts})
            if ledger.pending(provider.name):
                await asyncio.sleep(self.poll_interval)


class PromptedStep:
    """What the curate judge and rewriter share: templates rendered per document, one RequestEngine, dry-run help.

    Subclasses give `prompts(text) -> [(kind, system, user)]`. Picklable until first used; `rank` may be set
    later (a datatrove step learns its rank only when it runs), which moves the engine to that rank's cache file.
    """

    def __init__(self, provider: str, model: str, *, base_url: str | None = None,
                 cache_dir: str | Path | None = None, rank: int = 0, max_cost: float | None = None,
                 batch: bool = False, concurrency: int | None = 8, max_tokens: int = 1024,
                 temperature: float | None = 0.0, timeout: float = 60.0, retries: int = 5,
                 template_dir: str | None = None, poll_interval: float = 30.0,
                 prices: str | Path | None = None) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        self.provider, self.model = provider, model
        self.max_tokens, self.temperature, self.template_dir = max_tokens, temperature, template_dir
        self.engine = RequestEngine(provider, model, base_url=base_url, cache_dir=cache_dir, rank=rank,
                                    max_cost=max_cost, batch=batch, concurrency=concurrency, timeout=timeout,
                                    retries=retries, poll_interval=poll_interval, prices=prices)

    @property
    def rank(self) -> int:
        """The datatrove task rank whose cache file receives new answers."""
        return self.engine.rank

    @rank.setter
    def rank(self, value: int) -> None:
        if value != self.engine.rank:
            self.engine.close()
            self.engine.rank = value

    def check_key(self) -> None:
        """Raise MissingKeyError (naming the variable) before any work when the provider's key is not set."""
        from cogbeh.llm.providers import api_key

        api_key(self.provider)

    def prompts(self, text: str) -> list[tuple[str, str, str]]:
        """(kind, system, user) of every request one document needs."""
        raise NotImplementedError

    def requests(self, text: str) -> list[tuple[str, str, Request]]:
        """(kind, cache key, request) of every request one document needs."""
        found = []
        for kind, system, user in self.prompts(text):
            request = Request(system, user, self.model, self.max_tokens, self.temperature)
            found.append((kind, request_key(self.provider, request, kind=kind), request))
        return found

    def preview(self, text: str) -> str:
        """The rendered prompts for one document, as a dry run prints them."""
        parts = []
        for kind, system, user in self.prompts(text):
            parts += [f"### {kind}: system", system, "", f"### {kind}: user", user, ""]
        return "\n".join(parts).rstrip() + "\n"

    def estimate(self, texts: Sequence[str]) -> dict[str, Any]:
        """Documents, requests, estimated input tokens, worst-case output tokens and dollars for `texts`."""
        requests = [request for text in texts if isinstance(text, str) for _, _, request in self.requests(text)]
        return {"documents": len(texts), **self.engine.estimate(requests)}

    def stats(self) -> dict[str, Any]:
        """The engine's counters (requests sent, cache hits, answers, dollars) for a manifest."""
        return self.engine.stats()

    def spent(self) -> float:
        """Dollars recorded as paid in the cache folder (every run and rank), for a manifest."""
        return self.engine.spent()

    def _ask(self, texts: Sequence[Any]) -> list[list[tuple[str, Result]] | str]:
        """Per document: its (kind, answer) pairs, or why it was not asked (not a string)."""
        plans: list[list[tuple[str, str, Request]] | str] = []
        for text in texts:
            plans.append(self.requests(text) if isinstance(text, str) else f"expected a string, got "
                         f"{type(text).__name__}")
        items = [(key, request) for plan in plans if not isinstance(plan, str) for _, key, request in plan]
        answers = iter(self.engine.run(items))
        return [plan if isinstance(plan, str) else [(kind, next(answers)) for kind, _, _ in plan] for plan in plans]


def answer_problem(kind: str, result: Result, max_tokens: int) -> str | None:
    """Why `result` cannot be parsed at all (a failed request, an answer cut at max_tokens), else None."""
    if isinstance(result, ProviderError):
        return f"{kind} request failed: {result}"
    if result.stop_reason in ("max_tokens", "length"):
        return f"{kind} answer cut at max_tokens {max_tokens}"
    return None
