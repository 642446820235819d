"""Acceptance run against the fake server: n=200 with 30% injected faults and 10% malformed answers.

Prints, per provider: accepted records, rejections by reason, requests sent / retried / failed, errors by kind,
answers paid twice, and seconds. Run: python benchmarks/llm_faults.py [--n 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "llm"))

from fake_server import FakeServer, Faults  # noqa: E402
from llm_helpers import MODELS, sometimes_malformed  # noqa: E402

from cogbeh.llm.job import LLMJob  # noqa: E402
from cogbeh.llm.runner import run_llm  # noqa: E402


def one(provider: str, n: int) -> dict[str, object]:
    """Run one job and summarise what the manifest and the server saw."""
    faults = Faults(rate_limit=0.10, server_error=0.05, overloaded=0.05, timeout=0.03, truncated=0.04,
                    malformed=0.03, retry_after=0.05, hang=0.6)
    with FakeServer(answer=sometimes_malformed(0.10), faults=faults, latency=0.05, seed=11) as server, \
            tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        url = server.url + ("/v1" if provider == "openai" else "")
        job = LLMJob(behaviors=frozenset(), n=n, out=out, provider=provider, model=MODELS[provider], base_url=url,
                     concurrency=16, timeout=0.3, backoff=0.05, retry_after_cap=1.0)
        began = time.perf_counter()
        manifest = run_llm(job).manifest
        rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text().splitlines()]
        return {
            "provider": provider, "accepted": manifest["counts"]["accepted"],
            "rejected": manifest["counts"]["rejected_by_reason"],
            "unexplained_rejections": sum(1 for row in rejected if not row.get("reason")),
            "requests": manifest["requests"], "faults_served": dict(server.faults_served),
            "paid_twice": server.duplicates(), "cost_usd": manifest["cost_usd"]["this_process"],
            "seconds": round(time.perf_counter() - began, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-benchmark-not-a-key")
    os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark-not-a-key")
    for provider in ("anthropic", "openai"):
        print(json.dumps(one(provider, args.n), indent=1))


if __name__ == "__main__":
    main()
