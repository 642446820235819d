"""Fixtures for the curate tests: the LLM tests' loopback fake server and canary keys, re-exported.

tests/llm/conftest.py is loaded under a name of its own (two modules called `conftest` would clash) and its
fixtures are re-exported here; tests/llm goes on sys.path so fake_server, fake_routes and llm_helpers import.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_LLM_TESTS = Path(__file__).resolve().parent.parent / "llm"
if str(_LLM_TESTS) not in sys.path:
    sys.path.insert(0, str(_LLM_TESTS))

_spec = importlib.util.spec_from_file_location("cogbeh_tests_llm_conftest", _LLM_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_llm_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_llm_conftest)

#: Every curate test runs with canary keys and no real endpoint in the environment (autouse, as in tests/llm).
canary_keys = _llm_conftest.canary_keys
#: server_factory(**FakeServer options) -> a started FakeServer, stopped at the end of the test.
server_factory = _llm_conftest.server_factory

#: Counts the fake judge gives each behavior, spaced as the paper's own answer format shows them.
JUDGE_COUNTS = {"backtracking": 2, "backward_chaining": 0, "subgoal_setting": 3, "verification": 1}


def _document(user: str) -> str:
    found = re.search(r"===== DOCUMENT START =====\n(.*)\n===== DOCUMENT END =====", user, flags=re.DOTALL)
    return found.group(1) if found else ""


def judge_answer(system: str, user: str) -> str:
    """A fake judge: paper-format answers with spaced counts; a document containing MALFORMED gets an answer
    without a count (backtracking prompt, combined prompt) and NOPROBLEM one without a problem."""
    document = _document(user)
    problem = "no" if "NOPROBLEM" in document else "yes"
    if "<backtracking_count>" in user:  # combined prompt
        if "MALFORMED" in document:
            return "## Thoughts\nHard to say.\n\n## Labels\n<backtracking_count> maybe </backtracking_count>"
        tags = "\n".join(f"<{b}_count> {n} </{b}_count>" for b, n in JUDGE_COUNTS.items())
        return (f"## Thoughts\nThe writer checks once.\n\n## Labels\n{tags}\n<contains_problem> {problem} "
                "</contains_problem>\n<contains_solution> YES </contains_solution>")
    if "# Text to evaluate\n" in user:  # is_solution prompt
        return f"## Rationale\nA worked exercise.\n\n## Contains problem?\n{problem}\n\n## Contains solution?\n[yes]"
    behavior = next(b for b in JUDGE_COUNTS if f"evaluate for {b.replace('_', ' ')}" in user)
    if behavior == "backtracking" and "MALFORMED" in document:
        return "## Thoughts\nI am not sure what counts here.\n\n## Does the writer backtrack?\nperhaps"
    count = JUDGE_COUNTS[behavior]
    return f"## Thoughts\nSeen.\n\n## Does it?\n{'yes' if count else 'no'}\n\n## Number of steps\n<count> {count} </count>"


def rewrite_answer(system: str, user: str) -> str:
    """A fake rewriter: a well-formed split, except for documents containing MALFORMED (no <answer>)."""
    document = _document(user)
    style = "I try" if "thinking out loud" in user else "Step 1:"
    if "MALFORMED" in document:
        return f"<question>{document[:20]}</question>\n<thoughts>{style} something.</thoughts>"
    return f"<question>{document[:20]}</question>\n<thoughts>{style} the sum.</thoughts>\n<answer>4</answer>"


@pytest.fixture
def judge_counts() -> dict[str, int]:
    """The counts the fake judge answers for every well-formed document."""
    return dict(JUDGE_COUNTS)


@pytest.fixture
def fake_judge() -> Callable[[str, str], str]:
    """The fake judge's answer function (for FakeServer(answer=...))."""
    return judge_answer


@pytest.fixture
def fake_rewriter() -> Callable[[str, str], str]:
    """The fake rewriter's answer function."""
    return rewrite_answer
