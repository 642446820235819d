"""Subprocess entry for the kill-and-resume test: run one small job against a given fake server URL."""

from __future__ import annotations

import sys
from pathlib import Path

from cogbeh.llm.job import LLMJob
from cogbeh.llm.runner import run_llm

if __name__ == "__main__":
    url, out, n, resume = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "resume"
    job = LLMJob(behaviors=frozenset(), n=n, out=out, provider="openai", model="gpt-4o-mini", base_url=url + "/v1",
                 timeout=2.0, concurrency=4, backoff=0.01, resume=resume)
    # A fixed counter keeps this crash-safety test independent of the rule classifier's wording.
    run_llm(job, count=lambda text: dict.fromkeys(("backtracking", "backward_chaining", "subgoal_setting",
                                                   "verification"), 0))
