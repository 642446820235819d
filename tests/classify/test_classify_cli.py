"""`cogbeh-gen classify FILE.jsonl` and the aggregation behind it: per-behavior and per-condition figures."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify import BehaviorCounts, ClassifyError, count_behaviors
from cogbeh.classify.table import UNLABELLED, completion_text, format_table, tabulate, tabulate_records
from cogbeh.cli.main import main

BACKTRACK = (
    "<think>25 * 3 = 75. Dead end. Back to 25, 3 and 4.\n25 + 3 = 28, 28 + 4 = 32.</think>\n"
    "<answer>25+3+4</answer>"
)
CHECKED = "<think>Let me check: 8 * 4 = 32 ✓</think>\n<answer>8 * 4</answer>"
PLAIN = "<think>30 - 25 = 5. 5 + 3 = 8. 8 * 4 = 32.</think>\n<answer>(30 - 25 + 3) * 4</answer>"


def write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


# --- aggregation --------------------------------------------------------------------------------------------
def test_tabulate_gives_totals_means_and_shares_per_condition() -> None:
    pairs = [("backtracking", BACKTRACK), ("backtracking", PLAIN), ("none", PLAIN), ("verification", CHECKED)]
    table = tabulate(pairs)
    assert table.overall.records == 4 and table.overall.errors == 0
    assert table.overall.totals == {
        "backtracking": 1,
        "backward_chaining": 0,
        "subgoal_setting": 0,
        "verification": 1,
    }
    back = table.by_condition["backtracking"]
    assert back.records == 2 and back.mean("backtracking") == 0.5 and back.share("backtracking") == 0.5
    assert table.conditions() == ["none", "backtracking", "verification"]  # the paper's order first
    data = table.to_dict()
    assert data["conditions"]["verification"]["behaviors"]["verification"] == {
        "total": 1,
        "mean": 1.0,
        "share": 1.0,
    }


def test_tabulate_records_reads_completion_or_text_and_labels_missing_conditions() -> None:
    table = tabulate_records([{"completion": CHECKED, "condition": "verification"}, {"text": BACKTRACK}])
    assert set(table.by_condition) == {"verification", UNLABELLED}
    with pytest.raises(ValueError, match="record 2"):
        tabulate_records([{"completion": PLAIN}, {"prompt": "no completion here"}])


def test_conversational_completion_is_read_from_its_messages() -> None:
    assert completion_text({"completion": [{"role": "assistant", "content": CHECKED}]}) == CHECKED
    assert completion_text({"completion": None, "text": PLAIN}) == PLAIN
    assert completion_text({"completion": 7}) is None and completion_text({}) is None


class FlakyJudge:
    """A stand-in LLM judge: its second answer could not be parsed."""

    name = "flaky"

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        return [
            ClassifyError("no <count> tag") if i == 1 else count_behaviors(t) for i, t in enumerate(texts)
        ]


def test_classifier_errors_are_counted_apart_not_as_zeros() -> None:
    table = tabulate([("backtracking", BACKTRACK), ("backtracking", BACKTRACK)], classifier=FlakyJudge())
    tally = table.by_condition["backtracking"]
    assert (tally.records, tally.errors, tally.mean("backtracking")) == (1, 1, 1.0)
    assert "1 could not be classified" in format_table(table)


class ShortJudge:
    """A broken classifier that drops a result."""

    name = "short"

    def count(self, texts: Sequence[str]) -> list[BehaviorCounts | ClassifyError]:
        return [count_behaviors(t) for t in texts[:-1]]


def test_a_classifier_that_skips_a_text_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="1 results for 2 texts"):
        tabulate([("none", PLAIN), ("none", PLAIN)], classifier=ShortJudge())


def test_format_table_lists_every_behavior_and_condition() -> None:
    text = format_table(tabulate([("backtracking", BACKTRACK), ("custom+set", PLAIN)]))
    for word in (*BEHAVIORS, "backtracking", "custom+set", "1.00 (100.0%)", "0.00 (0.0%)"):
        assert word in text


# --- the command --------------------------------------------------------------------------------------------
def test_classify_prints_behavior_counts_and_the_condition_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(
        tmp_path / "records.jsonl",
        [
            {"condition": "backtracking", "completion": BACKTRACK},
            {"condition": "none", "completion": PLAIN},
            {"condition": "verification", "completion": CHECKED},
        ],
    )
    code, out, err = run(["classify", str(path)], capsys)
    assert code == 0 and err == ""
    assert "records: 3" in out and "classifier: rules" in out
    overall, by_condition = out.split("condition x behavior")
    first = {line.split()[0]: line.split()[1:] for line in overall.splitlines() if line.strip()}
    assert first["backtracking"] == ["1", "0.33", "33.3%"]  # total, mean over 3 records, share with >= 1
    rows = {line.split()[0]: line.split()[1:] for line in by_condition.splitlines()[1:] if line.strip()}
    assert rows["backtracking"][:3] == ["1", "1.00", "(100.0%)"]  # n, then backtracking's mean (share)
    assert set(rows) == {"condition", "none", "backtracking", "verification"}


def test_classify_json_and_rows_without_condition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "llm.jsonl"
    path.write_text(json.dumps({"text": CHECKED}) + "\n\n" + json.dumps({"completion": BACKTRACK}) + "\n")
    code, out, _ = run(["classify", str(path), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["classifier"] == "rules" and data["records"] == 2
    assert list(data["conditions"]) == [UNLABELLED]
    assert data["behaviors"]["verification"] == {"total": 1, "mean": 0.5, "share": 0.5}


BAD_INPUT = [
    ("missing", None, "no such file"),
    ("folder", "folder", "is a folder"),
    ("not-json", "this is not json\n", "not JSON"),
    ("not-object", "[1, 2]\n", "expected a JSON object"),
    ("no-completion", json.dumps({"condition": "none", "prompt": "x"}) + "\n", "no 'completion'"),
    ("completion-not-text", json.dumps({"completion": 42}) + "\n", "no 'completion'"),
    ("empty", "", "no records"),
    ("blank-lines", "\n\n  \n", "no records"),
    ("bad-second-line", json.dumps({"completion": PLAIN}) + "\n{oops\n", ":2:"),
    ("not-utf8", b"\xff\xfe\x00garbage\n", "not UTF-8"),
]


@pytest.mark.parametrize(("content", "message"), [pytest.param(c, m, id=i) for i, c, m in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "input.jsonl"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(["classify", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("cogbeh-gen: error:") and message in err, err
    assert "Traceback" not in err


def test_classify_runs_from_the_console_entry_point(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"condition": "backtracking", "completion": BACKTRACK}])
    done = subprocess.run(
        [sys.executable, "-m", "cogbeh.cli.main", "classify", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["conditions"]["backtracking"]["behaviors"]["backtracking"]["total"] == 1
    missing = subprocess.run(
        [sys.executable, "-m", "cogbeh.cli.main", "classify", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
