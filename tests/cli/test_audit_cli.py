"""`cogbeh-gen audit PATH` as a user runs it: a fresh run folder is clean, a corrupted trace is named by file and
line with exit 1, other tools' rows are read leniently, and bad input is one line with exit 2."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from cogbeh.cli.main import main

#: A sound trace in an LLM's words (not our templates'), and the same trace with one false sum.
LLM_SOUND = (
    "<think>\nLet's try 25 + 3 = 28. Then 28 - 4 = 24, but 6 is left over.\n"
    "What if 25 - 3 = 22? Then 6 - 4 = 2, and 22 + 2 = 24. That uses every number once.\n</think>\n"
    "<answer>(25 - 3) + (6 - 4)</answer>"
)
LLM_FALSE = LLM_SOUND.replace("25 + 3 = 28. Then 28 - 4 = 24", "25 + 3 = 29. Then 29 - 4 = 25")
EQUATION = re.compile(r"(\d+) ([+\-*/]) (\d+) = (\d+)")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A symbolic run of 30 backtracking+verification traces with its cue_stripped control (do not modify)."""
    out = tmp_path_factory.mktemp("audit") / "run"
    with pytest.raises(SystemExit) as exit_info:
        main(["-b", "backtracking+verification", "-n", "30", "--out", str(out), "--control", "cue_stripped", "-q"])
    assert exit_info.value.code in (0, None)
    return out


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def corrupt_first_move(completion: str) -> str:
    """The completion with the first equation in its think block made false (its result off by one)."""
    think_end = completion.index("</think>")
    match = EQUATION.search(completion, 0, think_end)
    assert match is not None, completion
    wrong = int(match.group(4)) + 1
    return completion[: match.start(4)] + str(wrong) + completion[match.end(4):]


# --- a run folder -------------------------------------------------------------------------------------------
def test_a_fresh_run_folder_audits_clean_with_both_files_reported(
    run_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["audit", str(run_folder)], capsys)
    assert code == 0 and err == ""
    for file in (run_folder / "records.jsonl", run_folder / "cue_stripped" / "records.jsonl"):
        assert f"{file}: 30 records, 0 flagged" in out, out
    assert out.count("0 flagged") == 2


def test_json_output_is_one_object_per_file(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["audit", str(run_folder), "--json"], capsys)
    reports = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(reports) == 2
    assert {Path(r["file"]).parent.name for r in reports} == {run_folder.name, "cue_stripped"}
    for report in reports:
        assert report["records"] == 30 and report["flagged"] == 0 and report["examples"] == []


def test_a_single_records_file_can_be_audited(run_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["audit", str(run_folder / "cue_stripped" / "records.jsonl")], capsys)
    assert code == 0 and out.count("records,") == 1 and "0 flagged" in out


@pytest.fixture
def corrupted(run_folder: Path, tmp_path: Path) -> Path:
    """A copy of the run whose third main record has a false first move."""
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    path = copy / "records.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[2])
    row["completion"] = corrupt_first_move(row["completion"])
    lines[2] = json.dumps(row, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return copy


def test_a_false_move_is_flagged_by_file_and_line(corrupted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["audit", str(corrupted)], capsys)
    assert code == 1 and err == ""
    assert f"{corrupted / 'records.jsonl'}: 30 records, 1 flagged" in out, out
    assert f"{corrupted / 'cue_stripped' / 'records.jsonl'}: 30 records, 0 flagged" in out
    example = next(line for line in out.splitlines() if line.strip().startswith("line "))
    assert example.strip().startswith("line 3 (") and "is false" in example, out


def test_a_false_move_in_json_names_the_line_and_the_problem(
    corrupted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["audit", str(corrupted / "records.jsonl"), "--json"], capsys)
    (report,) = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and report["flagged"] == 1
    (example,) = report["examples"]
    assert example["line"] == 3 and example["id"] and "is false" in example["findings"][0]
    assert sum(report["by_problem"].values()) == 1


def test_show_zero_prints_counts_without_examples(corrupted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["audit", str(corrupted), "--show", "0"], capsys)
    assert code == 1 and "1 flagged" in out
    assert not any(line.strip().startswith("line ") for line in out.splitlines())


def test_traces_are_held_to_the_returns_the_run_asked_for_and_controls_are_not(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    for manifest in (copy / "manifest.json", copy / "cue_stripped" / "manifest.json"):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["arguments"]["backtracks"] = [9, 9]  # more returns than any of these traces makes
        manifest.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(["audit", str(copy), "--json"], capsys)
    reports = {Path(r["file"]).parent.name: r for r in map(json.loads, out.splitlines())}
    assert code == 1
    assert reports["run"]["flagged"] == 30 and all("9 asked for" in e["findings"][-1]
                                                   for e in reports["run"]["examples"])
    assert reports["cue_stripped"]["flagged"] == 0  # a control keeps the returns but is no trace of the run


# --- another tool's rows --------------------------------------------------------------------------------------
def test_foreign_rows_are_audited_leniently(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = {"nums": [25, 3, 4, 6], "target": 24}
    sound = write_jsonl(tmp_path / "sound.jsonl", [{**problem, "completion": LLM_SOUND}] * 2)
    code, out, _ = run(["audit", str(sound)], capsys)
    assert code == 0 and "2 records, 0 flagged" in out  # prose a strict reading would reject passes

    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{**problem, "completion": LLM_SOUND},
                                                    {**problem, "completion": LLM_FALSE}])
    code, out, _ = run(["audit", str(mixed)], capsys)
    assert code == 1 and "2 records, 1 flagged" in out
    assert "line 2 (None): sentence 1: 25 + 3 = 29 is false" in out, out


def test_a_torn_last_line_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"nums": [25, 3, 4, 6], "target": 24, "completion": LLM_SOUND}) + '\n{"nums": [2',
                    encoding="utf-8")
    code, out, err = run(["audit", str(path)], capsys)
    assert code == 0 and err == "" and "1 records, 0 flagged" in out


# --- bad input ------------------------------------------------------------------------------------------------
ROW = json.dumps({"nums": [25, 3, 4, 6], "target": 24, "completion": LLM_SOUND})
BAD_INPUT = [
    ("missing path", None, "no such file or folder"),
    ("folder without records", "folder", "holds no records.jsonl"),
    ("non-JSON line before the last", ROW + "\nthis is not json\n" + ROW + "\n", ":2: not JSON"),
    ("row without a completion", json.dumps({"nums": [1, 2], "target": 3}) + "\n", ":1: expected a record"),
    ("completion that is not a string", json.dumps({"nums": [1, 2], "target": 3, "completion": 7}) + "\n",
     "'completion' string"),
    ("a JSON list, not a row", "[1, 2]\n" + ROW + "\n", ":1: expected a JSON object"),
    ("not UTF-8", b"\xff\xfe\x00garbage\n", "is not UTF-8 text"),
]


@pytest.mark.parametrize(("content", "message"), [pytest.param(c, m, id=i) for i, c, m in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "records.jsonl"
    if content == "folder":
        path = tmp_path / "empty-run"
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "other.jsonl").write_text(ROW + "\n", encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(["audit", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("cogbeh-gen: error:") and message in err, err
    assert "Traceback" not in err
