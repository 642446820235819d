"""Unit checks of the cache, price table, limiter, retry policy and prompts."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import pytest

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify import count_behaviors
from cogbeh.countdown import Problem
from cogbeh.llm.base import parse_reset, retry_after_seconds
from cogbeh.llm.cache import ResponseCache, cache_key
from cogbeh.llm.cost import PriceError, load_prices
from cogbeh.llm.limiter import Limiter, Pace
from cogbeh.llm.prompts import build_prompt, prompts_hash, system_prompt
from cogbeh.llm.retry import RetryPolicy
from cogbeh.llm.types import Completion, RateInfo, Usage, scrub
from cogbeh.templating import TemplateError
from cogbeh.validate import assess

KEY = {"provider": "anthropic", "model": "m", "system": "s", "user": "u", "params": {"max_tokens": 9},
       "template_hash": "t", "problem_id": "1-2_3", "sample_index": 0}


def test_cache_key_changes_with_every_input():
    base = cache_key(**KEY)
    for field, other in [("provider", "openai"), ("model", "n"), ("system", "S"), ("user", "U"),
                         ("params", {"max_tokens": 8}), ("template_hash", "T"), ("problem_id", "x"),
                         ("sample_index", 1)]:
        assert cache_key(**{**KEY, field: other}) != base


def test_cache_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "responses.jsonl"
    cache = ResponseCache(path)
    cache.put("a", Completion("text a", "m", "end_turn", "r1", Usage(1, 2, 3, 4)), cost_usd=0.5)
    cache.close()
    with path.open("a") as handle:
        handle.write('{"key": "b", "completion": {"te')  # kill -9 mid-write
    reopened = ResponseCache(path)
    assert reopened.get("a") == Completion("text a", "m", "end_turn", "r1", Usage(1, 2, 3, 4))
    assert "b" not in reopened and reopened.skipped == 1 and reopened.total_cost() == 0.5
    reopened.put("c", Completion("text c", "m", None, None))
    reopened.close()
    assert set(ResponseCache(path)._entries) == {"a", "c"}  # the new line did not glue onto the torn one


def test_prices_prefix_match_batch_discount_and_cache_rates():
    table = load_prices()
    price = table.price("anthropic", "claude-3-5-sonnet-20241022")
    assert price is not None and price.input == 3.0
    assert table.price("anthropic", "claude-3-5-sonnet-latest") == price
    assert table.price("openai", "gpt-4o-mini-2024-07-18").input == 0.15  # longest prefix wins over gpt-4o
    assert table.price("openai", "llama-3-8b") is None
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000,
                  cache_write_tokens=1_000_000)
    online = table.cost("anthropic", "claude-3-5-sonnet-20241022", usage)
    assert online == pytest.approx(3 + 15 + 0.30 + 3.75)
    assert table.cost("anthropic", "claude-3-5-sonnet-20241022", usage, batch=True) == pytest.approx(online / 2)


def test_user_price_file_overrides_and_bad_files_are_reported(tmp_path):
    good = tmp_path / "prices.yaml"
    good.write_text("version: mine\nproviders:\n  openai:\n    batch_discount: 0.25\n    models:\n"
                    "      my-model: {input: 1, output: 2}\n")
    table = load_prices(good)
    assert table.price("openai", "my-model").output == 2 and table.price("openai", "gpt-4o") is not None
    assert table.providers["openai"].batch_discount == 0.25 and table.version.endswith("+mine")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\nproviders:\n  openai:\n    models:\n      m: {input: -1, output: 2}\n")
    with pytest.raises(PriceError, match="input"):
        load_prices(bad)
    bad.write_text("version: x\nproviders: {openai: {models: {m: {input: 1, output: 2, typo: 3}}}}\n")
    with pytest.raises(PriceError, match="typo"):
        load_prices(bad)


def test_pace_spaces_requests():
    now = [0.0]
    pace = Pace(60, burst=0.0, clock=lambda: now[0])  # one per second
    assert [pace.reserve(1) for _ in range(3)] == [0.0, 1.0, 2.0]


def test_limiter_adopts_lower_advertised_limits_and_pauses_on_empty_quota():
    async def go():
        limiter = Limiter(concurrency=4, rpm=1000)
        limiter.observe(RateInfo(limit_requests=50, remaining_requests=10))
        assert limiter.rpm == 50
        limiter.observe(RateInfo(limit_tokens=9000, remaining_tokens=100, reset_seconds=0.05), next_tokens=500)
        assert limiter.tpm == 9000
        began = asyncio.get_running_loop().time()
        async with limiter.slot(10):
            pass
        assert asyncio.get_running_loop().time() - began >= 0.04

    asyncio.run(go())


def test_concurrency_is_bounded():
    async def go():
        limiter, peak = Limiter(concurrency=3), [0]

        async def one():
            async with limiter.slot():
                peak[0] = max(peak[0], limiter.in_flight)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one() for _ in range(12)))
        return peak[0]

    assert asyncio.run(go()) == 3


def test_retry_delays_grow_with_jitter_and_retry_after_is_capped():
    policy, rng = RetryPolicy(base=1.0, cap=8.0, retry_after_cap=5.0), random.Random(0)
    delays = [policy.delay(attempt, None, rng) for attempt in range(1, 7)]
    assert all(0.5 * min(8, 2 ** (a - 1)) <= d <= min(8, 2 ** (a - 1)) for a, d in zip(range(1, 7), delays, strict=False))
    assert policy.delay(1, 100.0, rng) == 5.0 and policy.delay(1, 0.2, rng) == 0.2


def test_header_parsing():
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({}) is None
    assert parse_reset("6m0s") == 360 and parse_reset("20ms") == pytest.approx(0.02) and parse_reset("1.5s") == 1.5
    assert parse_reset("2999-01-01T00:00:00Z") > 1e9 and parse_reset("soon") is None


def test_scrub_removes_keys_and_bearer_tokens():
    text = scrub("bad key sk-ant-secret-123456 and Bearer abcdefghijkl", ("sk-ant-secret-123456",))
    assert "secret" not in text and "abcdefghijkl" not in text


@pytest.mark.parametrize("size", range(len(BEHAVIORS) + 1))
def test_every_condition_example_passes_its_own_checks(size):
    for combo in itertools.combinations(BEHAVIORS, size):
        system = system_prompt(frozenset(combo))
        example = system[system.index("<think>"):].strip()
        verdict = assess(Problem((2, 5, 9), 23), example, frozenset(combo), count=count_behaviors,
                         expect_correct=True)
        assert verdict.reason is None, (combo, verdict.reason, verdict.counts)
        for behavior in BEHAVIORS:
            block = "MUST show" if behavior in combo else "must NOT show"
            assert block in system


def test_prompts_use_the_record_query_and_template_dir_errors_are_clear(tmp_path):
    prompt = build_prompt(frozenset({"backtracking"}), Problem((3, 4, 25, 30), 32))
    assert "3, 4, 25, 30" in prompt.user and "32" in prompt.user
    broken = Path(tmp_path) / "templates"
    (broken / "prompts" / "llm").mkdir(parents=True)
    (broken / "prompts" / "llm" / "system.jinja").write_text("{{ missing_variable }}")
    with pytest.raises(TemplateError, match="missing_variable"):
        system_prompt(frozenset(), root=str(broken))
    assert prompts_hash(root=str(broken)) != prompts_hash()
