"""The curate LLM judge (paper and combined prompts) against the loopback fake server, through the real SDKs."""

from __future__ import annotations

import pickle

import pytest
from llm_helpers import MODELS, base_url

from cogbeh.curate.judge import LLMLabeler, parse_combined, parse_count, parse_yes_no
from cogbeh.curate.labels import DocumentLabels, LabelError, make_labeler

JUDGE_COUNTS = {"backtracking": 2, "backward_chaining": 0, "subgoal_setting": 3, "verification": 1}
DOCS = ["Solve 2x = 4. Wait, I divided wrong; x = 2. Check: 2*2 = 4.",
        "A MALFORMED page that confuses the judge.",
        "NOPROBLEM: a table of contents."]


def _labeler(server, provider, tmp_path, **options):
    return LLMLabeler(provider, MODELS[provider], base_url=base_url(server, provider), cache_dir=tmp_path / "cache",
                      timeout=2.0, retries=1, **options)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_paper_mode_five_prompts_spaced_counts_and_errors(server_factory, fake_judge, tmp_path, provider):
    server = server_factory(answer=fake_judge)
    labeler = _labeler(server, provider, tmp_path)
    assert labeler.name == f"{provider}:{MODELS[provider]}:paper"
    first, malformed, no_problem = labeler.label(DOCS)
    assert server.answered == 5 * len(DOCS)
    assert first == DocumentLabels(JUDGE_COUNTS, contains_problem=True, contains_solution=True)
    # An unparseable answer is an error with its reason, never a 0.
    assert isinstance(malformed, LabelError) and malformed.reason.startswith("backtracking: no <count>")
    assert malformed.to_row(labeler.name)["backtracking_count"] is None
    assert no_problem == DocumentLabels(JUDGE_COUNTS, contains_problem=False, contains_solution=True)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_combined_mode_one_request_per_document(server_factory, fake_judge, tmp_path, provider):
    server = server_factory(answer=fake_judge)
    labeler = _labeler(server, provider, tmp_path, prompts="combined")
    first, malformed, no_problem = labeler.label(DOCS)
    assert server.answered == len(DOCS)
    assert first == DocumentLabels(JUDGE_COUNTS, contains_problem=True, contains_solution=True)
    assert isinstance(malformed, LabelError) and "backtracking_count is not a whole number" in malformed.reason
    assert no_problem.contains_problem is False


def test_second_run_and_other_ranks_send_nothing(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    first = _labeler(server, "anthropic", tmp_path).label(DOCS)
    requests = server.requests
    assert (tmp_path / "cache" / "responses-00000.jsonl").exists()
    assert _labeler(server, "anthropic", tmp_path).label(DOCS) == first  # same rank, new process
    resharded = _labeler(server, "anthropic", tmp_path, rank=3)  # another task's cache file answers too
    assert resharded.label(DOCS[::-1]) == first[::-1]
    assert server.requests == requests and resharded.stats()["sent"] == 0


def test_picklable_before_and_after_use(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    labeler = _labeler(server, "openai", tmp_path, prompts="combined")
    copy = pickle.loads(pickle.dumps(labeler))  # datatrove pickles steps before they run
    assert copy.label(DOCS[:1]) == labeler.label(DOCS[:1])
    again = pickle.loads(pickle.dumps(labeler))  # after use too: the open cache file is left behind
    again.rank = 1
    assert again.label(DOCS[:1]) == labeler.label(DOCS[:1]) and server.answered == 1


def test_make_labeler_dispatches_and_non_strings_are_errors(server_factory, fake_judge, tmp_path):
    server = server_factory(answer=fake_judge)
    labeler = make_labeler(f"openai:{MODELS['openai']}", base_url=base_url(server, "openai"), prompts="combined",
                           cache_dir=tmp_path / "cache")
    assert isinstance(labeler, LLMLabeler)
    result = labeler.label([None, DOCS[0]])  # type: ignore[list-item]
    assert isinstance(result[0], LabelError) and "expected a string" in result[0].reason
    assert isinstance(result[1], DocumentLabels) and server.answered == 1


def test_preview_places_the_document_as_data(tmp_path):
    document = "Find x. {{ 7 * 7 }} {% raw %} x = 3."
    paper = LLMLabeler("anthropic", "claude-3-5-haiku-latest").preview(document)
    combined = LLMLabeler("anthropic", "claude-3-5-haiku-latest", prompts="combined").preview(document)
    assert paper.count(document) == 5 and combined.count(document) == 1  # verbatim: never template source
    user = paper.split("### backtracking: user\n", 1)[1].split("###", 1)[0]
    assert user.rstrip().endswith("# Response") and user.index(document) > user.index("# Answer format")
    user = combined.split("### combined: user\n", 1)[1]
    assert user.index(document) < user.index("# Task")  # document first: a cacheable prefix


def test_estimate_combined_needs_about_a_quarter_of_the_input(tmp_path):
    document = "We compute the integral step by step and check it. " * 160  # ~2k tokens
    paper = LLMLabeler("openai", "gpt-4o-mini").estimate([document] * 10)
    combined = LLMLabeler("openai", "gpt-4o-mini", prompts="combined").estimate([document] * 10)
    assert paper["requests"] == 50 and combined["requests"] == 10
    assert paper["input_tokens"] / combined["input_tokens"] > 3.5
    assert 0 < combined["worst_case_usd"] < paper["worst_case_usd"]
    assert LLMLabeler("openai", "my-local-model").estimate([document])["worst_case_usd"] is None


@pytest.mark.parametrize("answer, expected", [
    ("<count>2</count>", 2), ("<count> 2 </count>", 2), ("<COUNT>3</COUNT>", 3), ("<count>[4]</count>", 4),
    ("I first thought <count>0</count>.\n## Number of backtrack steps\n<count> 5 </count>", 5),
    ("## Number of backtrack steps\n6", 6), ("## Number of answer verification steps: 7", 7),
    ("**Number of subgoal setting steps**\n**8**", 8),
])
def test_parse_count_accepts_the_variants(answer, expected):
    assert parse_count(answer) == expected


@pytest.mark.parametrize("answer", [
    "", "No backtracking here.", "<count>two</count>", "<count> [0/1/2/...] </count>", "<count>-1</count>",
    "## Number of backtrack steps\n## Thoughts", "<count>1</count> then <count>many</count>",
])
def test_parse_count_refuses_what_is_not_a_count(answer):
    assert isinstance(parse_count(answer), LabelError)


def test_parse_yes_no_and_combined():
    assert parse_yes_no("## Contains Problem?\nYes\n\n## Contains Solution?\n[no]", "solution") is False
    assert parse_yes_no("**Contains problem?** yes", "problem") is True
    assert isinstance(parse_yes_no("## Contains problem?\n[yes/no]", "problem"), LabelError)
    tags = "".join(f"<{b}_count>{n}</{b}_count>" for b, n in JUDGE_COUNTS.items())
    assert parse_combined(tags + "<contains_problem>no</contains_problem><contains_solution>no</contains_solution>"
                          ) == DocumentLabels(JUDGE_COUNTS, False, False)
    missing = parse_combined(tags)
    assert isinstance(missing, LabelError) and "contains problem" in missing.reason


def test_fake_judge_counts_match(judge_counts):
    assert judge_counts == JUDGE_COUNTS
