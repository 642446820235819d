"""`curate select`: rich/minimal sets under one token budget, the rule grammar, seeded order, frequency files."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cogbeh.behaviors import BEHAVIORS
from cogbeh.cli.main import cli
from cogbeh.curate.frequency import frequency, to_markdown
from cogbeh.curate.labels import COUNT_FIELDS
from cogbeh.curate.select import parse_budget, parse_rule, select
from cogbeh.tokenizer import load_tokenizer

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "curate" / "corpus.jsonl"
WORDS = ("we solve the equation for x then check that the result satisfies the original condition so "
         "subtract divide multiply factor the sum area triangle probability of getting two heads").split()


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return load_tokenizer("test")


def make_rows(n: int = 400, *, seed: int = 7) -> list[dict[str, Any]]:
    """Labelled rows of varied length: a third minimal, most rich, some without a solution, a few errors."""
    rows = []
    for index in range(n):
        rng = random.Random(f"{seed}:{index}")
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 160))) + f" Answer: {index}."
        rich = index % 3 != 0
        counts = {b: (rng.randint(0, 3) if rich else 0) for b in BEHAVIORS}
        if rich and not any(counts.values()):
            counts["verification"] = 1
        row = {"id": f"doc-{index:04d}", "text": text, **{COUNT_FIELDS[b]: counts[b] for b in BEHAVIORS},
               "contains_problem": True, "contains_solution": index % 11 != 5, "label_error": None,
               "judge": "rules", "url": f"https://example.org/{index}"}
        if index % 37 == 3:
            row.update({COUNT_FIELDS[b]: None for b in BEHAVIORS}, contains_problem=None, contains_solution=None,
                       label_error="judge answer has no <count>")
        rows.append(row)
    return rows


def fixture_rows() -> list[dict[str, Any]]:
    """tests/data/curate/corpus.jsonl converted to labelled rows (its labels under behavior names)."""
    rows = []
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            counts = doc.get("counts", doc)
            rows.append({"id": doc["id"], "text": doc["text"],
                         **{COUNT_FIELDS[b]: int(counts.get(b, 0)) for b in BEHAVIORS},
                         "contains_problem": bool(doc.get("contains_problem")),
                         "contains_solution": bool(doc.get("contains_solution")), "label_error": None,
                         "judge": "fixture"})
    return rows


def test_budget_syntax() -> None:
    assert [parse_budget(t) for t in ("8.3M", "500k", "12000", "1.5K", 42)] == [8_300_000, 500_000, 12_000, 1500, 42]
    for bad in ("", "abc", "0", "-5", "1e6", "5 tokens"):
        with pytest.raises(ValueError, match="--tokens takes"):
            parse_budget(bad)


def test_rule_grammar_and_refusals() -> None:
    rule = parse_rule("backtracking>0, verification>=2")
    counts = dict.fromkeys(BEHAVIORS, 0)
    assert not rule.matches(counts)
    assert rule.matches({**counts, "backtracking": 1, "verification": 2})
    assert not rule.matches({**counts, "backtracking": 1, "verification": 1})
    assert str(parse_rule("subgoal_setting_count==1")) == "subgoal_setting==1"
    with pytest.raises(ValueError, match="valid names: backtracking, backward_chaining"):
        parse_rule("backtrack>0")
    for bad in ("__import__('os').system('true')", "verification", "verification>>1", "verification>0,", ""):
        with pytest.raises(ValueError, match="--rule"):
            parse_rule(bad)


def test_sets_fit_the_budget_and_the_definitions(tokenizer: Any) -> None:
    rows = make_rows()
    selection = select(rows, tokens=6000, tokenizer=tokenizer, seed=0, rule=None)
    for name in ("rich", "minimal"):
        report, chosen = selection.reports[name], getattr(selection, name)
        assert report.tokens <= 6000 and abs(report.deviation) <= 0.01, report.line(name)
        assert report.tokens == sum(tokenizer.count(r["text"]) for r in chosen)
        assert all(r["contains_problem"] is True and r["contains_solution"] is True and not r["label_error"]
                   for r in chosen)
        assert all(r["selection"] == name for r in chosen)
    assert all(any(r[COUNT_FIELDS[b]] for b in BEHAVIORS) for r in selection.rich)
    assert all(not any(r[COUNT_FIELDS[b]] for b in BEHAVIORS) for r in selection.minimal)
    assert selection.excluded["label errors"] == sum(1 for r in rows if r["label_error"])
    assert "rich:" in selection.summary() and "label errors" in selection.summary()


def test_rule_narrows_the_rich_set(tokenizer: Any) -> None:
    selection = select(make_rows(), tokens=3000, tokenizer=tokenizer, seed=0, rule="backtracking>0,verification>=2")
    assert selection.rich and all(r["backtracking_count"] > 0 and r["verification_count"] >= 2
                                  for r in selection.rich)
    assert selection.excluded["rich but outside the rule"] > 0


def test_order_is_seeded_not_input_order(tokenizer: Any) -> None:
    rows = make_rows()
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    first = select(rows, tokens=4000, tokenizer=tokenizer, seed=3, rule=None)
    second = select(shuffled, tokens=4000, tokenizer=tokenizer, seed=3, rule=None)
    other = select(rows, tokens=4000, tokenizer=tokenizer, seed=4, rule=None)
    assert [r["id"] for r in first.rich] == [r["id"] for r in second.rich]
    assert [r["id"] for r in first.minimal] == [r["id"] for r in second.minimal]
    assert [r["id"] for r in first.rich] != [r["id"] for r in other.rich]


def test_small_pool_is_reported(tokenizer: Any) -> None:
    selection = select(make_rows(40), tokens=1_000_000, tokenizer=tokenizer, seed=0, rule=None)
    report = selection.reports["minimal"]
    assert report.exhausted and report.documents == report.pool and report.pool_tokens == report.tokens
    assert "smaller than the budget" in selection.summary()
    full = select(make_rows(), tokens=3000, tokenizer=tokenizer, seed=0, rule=None)
    assert not any(full.reports[name].exhausted for name in ("rich", "minimal"))
    assert "smaller than the budget" not in full.summary()


def test_duplicate_ids_are_refused(tokenizer: Any) -> None:
    rows = make_rows(5)
    with pytest.raises(ValueError, match="duplicate id"):
        select([*rows, rows[0]], tokens=100, tokenizer=tokenizer, seed=0, rule=None)


def test_fixture_corpus_budget_within_one_percent(tokenizer: Any) -> None:
    rows = fixture_rows()
    selection = select(rows, tokens=10**9, tokenizer=tokenizer, seed=0, rule=None)
    smaller = min(selection.reports[name].tokens for name in ("rich", "minimal"))
    budget = smaller // 2  # half the smaller pool: both sets must fill it, not run out
    selection = select(rows, tokens=budget, tokenizer=tokenizer, seed=0, rule=None)
    for name in ("rich", "minimal"):
        report = selection.reports[name]
        assert not report.exhausted and abs(report.deviation) <= 0.01, report.line(name)


def test_frequency_table() -> None:
    rows = make_rows(60)
    tally = frequency(rows)
    labelled = [r for r in rows if not r["label_error"]]
    assert tally.labelled == len(labelled) and tally.errors == len(rows) - len(labelled)
    share = sum(1 for r in labelled if r["verification_count"] > 0) / len(labelled)
    assert tally.share("verification") == pytest.approx(share)
    assert f"{share:.1%}" in to_markdown(tally)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_writes_the_folder_byte_identically(tmp_path: Path) -> None:
    rows = make_rows()
    a = _write(tmp_path / "in" / "labelled" / "part-0.jsonl", rows[:200])
    b = _write(tmp_path / "in" / "labelled" / "part-1.jsonl", rows[200:])
    runner = CliRunner()
    first = runner.invoke(cli, ["curate", "select", str(tmp_path / "in"), "--out", str(tmp_path / "one"),
                                "--tokens", "5k", "--tokenizer", "test"])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == str(tmp_path / "one")
    assert "rich:" in first.stderr and "minimal:" in first.stderr
    second = runner.invoke(cli, ["curate", "select", str(b), str(a), "--out", str(tmp_path / "two"),
                                 "--tokens", "5000"])
    assert second.exit_code == 0, second.output
    for name in ("rich.jsonl", "minimal.jsonl", "frequency.md", "frequency.png"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["sets"]["rich"]["budget"] == 5000 and manifest["files"]["minimal.jsonl"] == "minimal"
    assert (tmp_path / "one" / "frequency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in (tmp_path / "one").iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize("args, message", [
    (["--tokens", "lots"], "--tokens takes"),
    (["--tokens", "5k", "--rule", "backtrack>0"], "unknown behavior"),
    (["--tokens", "5k", "--tokenizer", "nope/missing/x"], "tokenizer"),
])
def test_cli_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    source = _write(tmp_path / "rows.jsonl", make_rows(20))
    result = CliRunner().invoke(cli, ["curate", "select", str(source), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_bad_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(make_rows(1)[0]) + "\nnot json\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["curate", "select", str(bad), "--out", str(tmp_path / "o"), "--tokens", "9"])
    assert result.exit_code == 2 and "bad.jsonl:2" in result.stderr
    missing = CliRunner().invoke(cli, ["curate", "select", str(tmp_path / "none.jsonl"), "--out",
                                       str(tmp_path / "o"), "--tokens", "9"])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
