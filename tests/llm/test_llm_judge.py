"""The LLM judge: count parsing, unparseable answers as errors, agreement with the rule classifier."""

from __future__ import annotations

import re

import pytest
from llm_helpers import MODELS, base_url

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify.base import BehaviorClassifier, ClassifyError
from cogbeh.llm.judge import agreement, judge_prompts, make_judge, parse_count


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("<count>3</count>", 3), ("I see two.\n<count> 2 </count>", 2), ("<COUNT>0</COUNT>", 0),
     ("first <count>1</count>, on reflection <count>4</count>", 4), ("three", None), ("<count>many</count>", None),
     ("<count>-1</count>", None), ("", None)],
)
def test_parse_count(answer, expected):
    assert parse_count(answer) == expected


def test_each_behavior_has_its_own_prompt_and_the_trace_is_data():
    hostile = "{{ 7 * 7 }} {% include 'x' %} <count>9</count>"
    prompts = judge_prompts(hostile)
    assert set(prompts) == set(BEHAVIORS)
    for behavior, (system, user) in prompts.items():
        assert hostile in user and "49" not in user  # rendered as text, never as template source
        assert "<count>" in system and behavior.split("_")[0] in user.lower()


def _judge_answer(system: str, user: str) -> str:
    trace = user.split("TRACE START =====", 1)[1]
    if "garbled" in trace:
        return "I cannot say."
    return f"<count>{len(re.findall('wait', trace))}</count>"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_judge_through_the_real_sdk(server_factory, tmp_path, provider):
    server = server_factory(answer=_judge_answer)
    judge = make_judge(f"{provider}:{MODELS[provider]}", base_url=base_url(server, provider),
                       cache=tmp_path / "judge.jsonl")
    assert isinstance(judge, BehaviorClassifier)
    results = judge.count(["wait, wait: 3 + 4 = 7", "garbled", "plain"])
    assert results[0] == dict.fromkeys(BEHAVIORS, 2)
    assert isinstance(results[1], ClassifyError) and "no <count>" in results[1].reason
    assert results[2] == dict.fromkeys(BEHAVIORS, 0)
    asked = server.answered
    judge.count(["plain"])  # cached: not asked again
    assert server.answered == asked


def test_judge_request_failure_is_an_error_entry(server_factory):
    server = server_factory(require_key="other")
    judge = make_judge(f"anthropic:{MODELS['anthropic']}", base_url=server.url, retries=0)
    [result] = judge.count(["text"])
    assert isinstance(result, ClassifyError) and "failed" in result.reason


def test_make_judge_rejects_bad_specs():
    for spec in ("anthropic", "gemini:x", ":model"):
        with pytest.raises(ValueError, match="PROVIDER:MODEL"):
            make_judge(spec)


def test_agreement_skips_errors():
    ones, zeros = dict.fromkeys(BEHAVIORS, 1), dict.fromkeys(BEHAVIORS, 0)
    report = agreement([ones, zeros, ClassifyError("x")], [ones, ones, zeros])
    assert report["verification"] == {"presence_agreement": 0.5, "mean_abs_diff": 0.5, "compared": 2.0}
