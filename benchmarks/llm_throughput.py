"""Answered requests per second of the LLM engine against the loopback fake server (~200 ms latency).

Baseline: the ideal for the concurrency and latency (concurrency / latency = 160 req/s at 32 and 0.2 s), and the
bare SDK with an asyncio.Semaphore of the same width, measured in the same run.
Run: python benchmarks/llm_throughput.py [--requests 1000] [--concurrency 32] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "llm"))

from fake_server import cheap_answer, serve_in_child  # noqa: E402

from cogbeh.llm.job import LLMJob  # noqa: E402
from cogbeh.llm.runner import run_llm  # noqa: E402

MODELS = {"anthropic": "claude-3-5-sonnet-20241022", "openai": "gpt-4o-mini"}
ZERO = dict.fromkeys(("backtracking", "backward_chaining", "subgoal_setting", "verification"), 0)


@contextlib.contextmanager
def server_process(latency: float):
    """The fake server in its own process (sharing our GIL would measure the server, not the engine)."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve_in_child, args=(child, {"latency": latency, "answer": cheap_answer}), daemon=True)
    process.start()
    url = parent.recv()
    try:
        yield url
    finally:
        parent.send("stop")
        process.join(5)


def answered(url: str) -> int:
    """Completions the server delivered so far."""
    with urllib.request.urlopen(url + "/_stats") as response:
        return int(json.loads(response.read())["answered"])


def engine(provider: str, requests: int, concurrency: int, latency: float) -> tuple[float, int]:
    """Full engine: limiter, retries, cache fsync, validation, ordered commit; n = requests, all accepted."""
    with server_process(latency) as base, tempfile.TemporaryDirectory() as folder:
        url = base + ("/v1" if provider == "openai" else "")
        job = LLMJob(behaviors=frozenset(), n=requests, out=Path(folder) / "run", provider=provider,
                     model=MODELS[provider], base_url=url, concurrency=concurrency, timeout=30.0)
        began = time.perf_counter()
        run_llm(job, count=lambda text: dict(ZERO))
        return time.perf_counter() - began, answered(base)


def bare_sdk(requests: int, concurrency: int, latency: float) -> tuple[float, int]:
    """The Anthropic SDK alone, `concurrency` calls at a time: what any engine could reach here."""
    from cogbeh.llm.providers import make_provider
    from cogbeh.llm.types import Request

    async def go(url: str) -> None:
        provider = make_provider("anthropic", base_url=url, timeout=30.0)
        gate = asyncio.Semaphore(concurrency)
        request = Request("system", "Using the numbers 1, 2, 3, write an arithmetic expression that equals 6.",
                          MODELS["anthropic"])

        async def one() -> None:
            async with gate:
                await provider.complete(request)

        await asyncio.gather(*(one() for _ in range(requests)))
        await provider.aclose()

    with server_process(latency) as url:
        began = time.perf_counter()
        asyncio.run(go(url))
        return time.perf_counter() - began, answered(url)


def warm_up() -> None:
    """Import both SDKs before any clock starts: a one-off ~2 s per process, not a per-request cost."""
    import anthropic  # noqa: F401
    import openai  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-benchmark-not-a-key")
    os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark-not-a-key")
    warm_up()
    ideal = args.concurrency / args.latency
    rows = [("ideal (concurrency / latency)", ideal)]
    seconds, answered = bare_sdk(args.requests, args.concurrency, args.latency)
    rows.append(("bare anthropic SDK + semaphore", answered / seconds))
    for provider in ("anthropic", "openai"):
        seconds, answered = engine(provider, args.requests, args.concurrency, args.latency)
        rows.append((f"cogbeh engine, {provider}", answered / seconds))
    print(f"{args.requests} requests, concurrency {args.concurrency}, server latency {args.latency * 1000:.0f} ms")
    print(f"{'system':<34} {'req/s':>8} {'vs ideal':>9}")
    for name, rate in rows:
        print(f"{name:<34} {rate:>8.1f} {rate / ideal:>8.0%}")


if __name__ == "__main__":
    main()
