"""`curate rewrite` end to end against the loopback fake server: checks, rates, resume, and `train sft`'s loader."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("math_verify")
pytest.importorskip("rapidfuzz")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))  # the shared fake server

from fake_server import FakeServer  # noqa: E402
from llm_helpers import CANARY  # noqa: E402

from cogbeh.cli.main import cli  # noqa: E402
from cogbeh.curate.rewrite import done_ids  # noqa: E402

QUESTION = "Solve 2x + {k} = {r} for x."
RICH = ("I start from 2x + {k} = {r}. I subtract {k} and get 2x = {d}, so x = {x}. Let me check: "
        "2({x}) + {k} = {r}, which is correct.")
PLAIN = "Subtract {k} from both sides: 2x = {d}. Divide by 2: x = {x}."


def document(index: int) -> dict[str, Any]:
    """A small worked solution with a boxed answer and a check after it (proofs, for index 5, have none)."""
    x, k = index + 2, index + 1
    values = {"k": k, "r": 2 * x + k, "d": 2 * x, "x": x}
    if index == 5:
        text = (f"Document {index}. Prove that the square root of 2 is irrational. Suppose it were p/q in lowest "
                "terms. Then p^2 = 2q^2, so p is even and then q is even: a contradiction.")
    else:
        text = (f"Document {index}. {QUESTION.format(**values)} We subtract {k} from both sides to get "
                f"2x = {2 * x}, then divide by 2. So $\\boxed{{{x}}}$. Check: 2*{x} + {k} = {2 * x + k}, as wanted.")
    return {"id": f"owm-{index}", "text": text, "selection": "rich", "values": values}


DOCS = [document(i) for i in range(8)]
#: What the fake model does with each document (by index).
KINDS = {0: "faithful", 1: "faithful", 2: "foreign_question", 3: "wrong_answer", 4: "unparseable",
         5: "proof", 6: "no_behaviors", 7: "faithful"}


def answer(system: str, user: str) -> str:
    """The fake model: finds the document in the prompt and rewrites it the way KINDS says."""
    index = next(i for i, doc in enumerate(DOCS) if f"Document {i}." in user)
    kind, values = KINDS[index], DOCS[index]["values"]
    question, thoughts, final = QUESTION.format(**values), RICH.format(**values), str(values["x"])
    if kind == "foreign_question":
        question = "What is the capital of France?"
    elif kind == "wrong_answer":
        final = str(values["x"] + 1)
    elif kind == "unparseable":
        return "Sorry, I cannot split this document."
    elif kind == "proof":
        question = "Prove that the square root of 2 is irrational."
        thoughts = "I suppose it is p/q in lowest terms. Let me check: p is even, and then q is even too."
        final = "It is irrational."
    elif kind == "no_behaviors":
        thoughts = PLAIN.format(**values)
    return f"<question>{question}</question>\n<thoughts>{thoughts}</thoughts>\n<answer>{final}</answer>"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", CANARY.replace("ant", "oai"))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture
def server() -> Any:
    with FakeServer(answer=answer) as running:
        yield running


def selection(tmp_path: Path, docs: list[dict[str, Any]] = DOCS) -> Path:
    path = tmp_path / "sel" / "rich.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({k: v for k, v in d.items() if k != "values"}) + "\n" for d in docs))
    return path


def run(source: Path, out: Path, server: FakeServer, *extra: str) -> Any:
    return CliRunner().invoke(cli, ["curate", "rewrite", str(source), "--out", str(out), "--model",
                                    "openai:fake-model", "--base-url", server.url + "/v1", *extra])


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_rewrite_checks_every_row_and_reports_all_outcomes(tmp_path: Path, server: FakeServer) -> None:
    out = tmp_path / "out"
    result = run(selection(tmp_path), out, server)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    kept, rejected = lines(out / "records.jsonl"), lines(out / "rejected.jsonl")
    assert [r["source_id"] for r in kept] == ["owm-0", "owm-1", "owm-5", "owm-7"]  # input order
    reasons = {r["source_id"]: r["reason"] for r in rejected}
    assert reasons["owm-2"].startswith("question:")
    assert reasons["owm-3"].startswith("answer:") and "does not match" in reasons["owm-3"]
    assert reasons["owm-4"].startswith("rewrite:")
    assert reasons["owm-6"].startswith("behaviors:")
    row = kept[0]
    assert row["style"] == "rich" and row["id"] == "owm-0:rich"
    assert row["checks"]["answer"] == "match" and row["checks"]["question"] >= 85
    assert row["prompt"].rstrip().endswith("<think>") and row["completion"].endswith("</answer>")
    manifest = json.loads((out / "manifest.json").read_text())
    answers = manifest["checks"]["answer"]
    assert {k: v["count"] for k, v in answers.items()} == {"match": 5, "mismatch": 1, "cannot_check": 1}
    assert manifest["checked"] == 7 and manifest["rewrite_errors"] == 1
    assert manifest["checks"]["question"]["passed"] == 6 and manifest["checks"]["behaviors"]["passed"] == 6
    assert manifest["kept"] == 4 and manifest["model"] == "openai:fake-model" and manifest["status"] == "complete"
    # Every answer the server delivered was paid once and counted (an unpriced model costs 0.0 dollars).
    assert manifest["cost"]["this_run"]["answered"] == server.answered == 8
    assert manifest["cost"]["this_run"]["cache_hits"] == 0 and manifest["cost"]["usd_total"] == 0.0
    assert json.loads((out / "prompt.json").read_text())["style"] == "tinyzero"
    assert "kept 4" in result.stderr
    assert CANARY not in "".join(p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file())


def test_strict_answer_check_rejects_what_it_cannot_check(tmp_path: Path, server: FakeServer) -> None:
    result = run(selection(tmp_path), tmp_path / "out", server, "--answer-check", "strict")
    assert result.exit_code == 0, result.output
    assert [r["source_id"] for r in lines(tmp_path / "out" / "records.jsonl")] == ["owm-0", "owm-1", "owm-7"]


def test_resume_pays_nothing_twice(tmp_path: Path, server: FakeServer) -> None:
    source, out = selection(tmp_path), tmp_path / "out"
    assert run(source, out, server, "--limit", "3").exit_code == 0
    paid = server.answered
    assert paid == 3 and done_ids(out) == {"owm-0", "owm-1", "owm-2"}
    with (out / "records.jsonl").open("a") as handle:
        handle.write('{"id": "torn')  # a crash mid-write
    refused = run(source, out, server)
    assert refused.exit_code == 2 and "--resume" in refused.stderr
    resumed = run(source, out, server, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert server.answered == paid + 5 and server.duplicates() == 0
    ids = [r["source_id"] for r in lines(out / "records.jsonl") + lines(out / "rejected.jsonl")]
    assert sorted(ids) == sorted(d["id"] for d in DOCS)
    again = run(source, out, server, "--overwrite")  # every answer is in the cache
    assert again.exit_code == 0 and server.answered == paid + 5
    conflict = run(source, out, server, "--resume", "--answer-check", "strict")
    assert conflict.exit_code == 2 and "answer_check" in conflict.stderr


def test_train_sft_loader_reads_the_folder(tmp_path: Path, server: FakeServer) -> None:
    from cogbeh.train.data import load_priming

    out = tmp_path / "out"
    assert run(selection(tmp_path), out, server).exit_code == 0
    data = load_priming(out)
    assert len(data.rows) == 4 and data.problems == []
    assert "Solve 2x + 1 = 5 for x." in data.rows[0]["prompt"]
    assert data.rows[0]["completion"].endswith("<answer>2</answer>")


def test_style_comes_from_the_file_or_must_be_given(tmp_path: Path, server: FakeServer) -> None:
    plain = tmp_path / "docs.jsonl"
    plain.write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
    result = run(plain, tmp_path / "o", server)
    assert result.exit_code == 2 and "--style" in result.stderr
    dry = run(selection(tmp_path), tmp_path / "dry", server, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Document 0." in dry.stdout and server.answered == 0 and not (tmp_path / "dry").exists()
    bad = run(selection(tmp_path), tmp_path / "o", server, "--model", "nope")
    assert bad.exit_code == 2 and "PROVIDER:MODEL" in bad.stderr
