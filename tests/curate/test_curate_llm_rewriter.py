"""The curate rewriter: the rich and minimal prompts, the strict question/thoughts/answer parser, the fake server."""

from __future__ import annotations

import pickle

import pytest
from llm_helpers import MODELS, base_url

from cogbeh.curate.labels import LabelError
from cogbeh.curate.rewriter import Rewriter, Rewritten, parse_rewrite

DOCS = ["What is 2 + 2? I think it is 5, wait, 2 + 2 = 4. Check: 4 - 2 = 2. So 4.",
        "A MALFORMED page: the rewrite loses its answer."]


def test_parse_rewrite_accepts_one_of_each():
    raw = "Sure.\n<question> What is 2 + 2? </question>\n<thoughts>I add them.\nI get 4.</thoughts>\n<answer>4</answer>"
    assert parse_rewrite(raw) == Rewritten("What is 2 + 2?", "I add them.\nI get 4.", "4", raw)


@pytest.mark.parametrize("raw, reason", [
    ("<question>q</question><thoughts>t</thoughts>", "exactly one <answer>"),
    ("<question>q</question><question>q2</question><thoughts>t</thoughts><answer>a</answer>", "exactly one <question>"),
    ("<question>q</question><thoughts>  </thoughts><answer>a</answer>", "<thoughts> is empty"),
    ("<question>q<thoughts>t</thoughts></question><answer>a</answer>", "another part's tag"),
    ("</question>q<question><thoughts>t</thoughts><answer>a</answer>", "comes before"),
    ("<question>q</question><thoughts>t</thoughts><answer>a", "exactly one <answer>"),
])
def test_parse_rewrite_refuses_anything_else(raw, reason):
    result = parse_rewrite(raw)
    assert isinstance(result, LabelError) and reason in result.reason


@pytest.mark.parametrize("provider, style", [("anthropic", "rich"), ("openai", "minimal")])
def test_rewrite_against_the_fake_server(server_factory, fake_rewriter, tmp_path, provider, style):
    server = server_factory(answer=fake_rewriter)
    rewriter = Rewriter(provider, MODELS[provider], style=style, base_url=base_url(server, provider),
                        cache_dir=tmp_path / "cache", timeout=2.0, retries=1)
    assert rewriter.name == f"{provider}:{MODELS[provider]}:{style}" and rewriter.max_tokens == 5120
    pickle.dumps(rewriter)
    good, malformed = rewriter.rewrite(DOCS)
    assert isinstance(good, Rewritten) and good.question == DOCS[0][:20] and good.answer == "4"
    assert good.thoughts.startswith("I try" if style == "rich" else "Step 1:")  # the style's prompt was sent
    assert isinstance(malformed, LabelError) and "<answer>" in malformed.reason
    assert server.answered == 2
    again = Rewriter(provider, MODELS[provider], style=style, base_url=base_url(server, provider),
                     cache_dir=tmp_path / "cache")
    assert again.rewrite(DOCS) == [good, malformed] and server.answered == 2  # from the cache


def test_rich_and_minimal_prompts_differ_as_the_paper_asks():
    document = "Find x if 2x = 6. {{ x }}"
    rich = Rewriter("openai", "gpt-4o-mini").preview(document)
    minimal = Rewriter("openai", "gpt-4o-mini", style="minimal").preview(document)
    for text in (rich, minimal):
        assert text.count(document) == 1 and "<question>" in text and "must come from the document" in text
    assert "first person" in rich and "present tense" in rich and "mistakes" in rich
    assert "Leave out mistakes" in minimal and "first person" not in minimal
    estimate = Rewriter("openai", "gpt-4o-mini", batch=True, cache_dir="unused").estimate([document] * 4)
    assert estimate["requests"] == 4 and estimate["max_output_tokens"] == 4 * 5120 and estimate["batch"]


def test_bad_style_is_refused():
    with pytest.raises(ValueError, match="style"):
        Rewriter("openai", "gpt-4o-mini", style="verbose")
