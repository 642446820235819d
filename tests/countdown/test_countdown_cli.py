"""`cogbeh-gen solve` and `cogbeh-gen problems`, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cogbeh.countdown import check, load_problems, sample_problems


def cogbeh_gen(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI entry point with `args`; capture text output."""
    return subprocess.run(
        [sys.executable, "-m", "cogbeh.cli.main", *args], capture_output=True, text=True, timeout=120
    )


def test_solve_prints_a_checked_solution() -> None:
    run = cogbeh_gen("solve", "--nums", "25", "30", "3", "4", "--target", "32")
    assert run.returncode == 0, run.stderr
    (line,) = run.stdout.splitlines()
    expr, _, value = line.rpartition(" = ")
    assert value == "32"
    assert check(expr, [25, 30, 3, 4], 32)


def test_console_script() -> None:
    script = Path(sys.executable).with_name("cogbeh-gen")
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    run = subprocess.run(
        [str(script), "solve", "--nums", "2", "3", "4", "--target", "24"], capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout == "4 * 3 * 2 = 24\n"


def test_solve_all_json() -> None:
    run = cogbeh_gen("solve", "--nums", "1", "2", "3", "4", "--target", "10", "--all", "--json")
    assert run.returncode == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["nums"] == [1, 2, 3, 4] and payload["target"] == 10
    assert payload["solvable"] is True and payload["rules"] == "standard"
    assert len(payload["solutions"]) > 1
    assert len(set(payload["solutions"])) == len(payload["solutions"])
    assert all(check(s, [1, 2, 3, 4], 10) for s in payload["solutions"])


def test_solve_rules_option() -> None:
    run = cogbeh_gen("solve", "--nums", "3", "3", "8", "8", "--target", "24", "--rules", "integer")
    assert run.returncode == 1
    run = cogbeh_gen("solve", "--nums", "3", "3", "8", "8", "--target", "24", "--rules", "standard")
    assert run.returncode == 0 and "8 / (3 - 8 / 3) = 24" in run.stdout


def test_unsolvable_exits_1_with_a_message() -> None:
    run = cogbeh_gen("solve", "--nums", "1", "1", "--target", "100")
    assert run.returncode == 1
    assert "no solution" in run.stdout + run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "--nums", "25", "30", "--target", "x"],
        ["solve", "--nums", "25", "30", "--target", "3.5"],
        ["solve", "--nums", "0", "3", "--target", "3"],
        ["solve", "--nums", "-1", "3", "--target", "3"],
        ["solve", "--nums", "1.5", "3", "--target", "3"],
        ["solve", "--nums", "1", "2", "--target", "3", "--rules", "bogus"],
        ["solve", "--nums", "1", "2"],
        ["solve", "--target", "3"],
        ["solve", "--nums", "1", "2", "--target", "3", "--frobnicate"],
        ["problems", "-n", "0"],
        ["problems", "-n", "3", "--preset", "nope"],
    ],
)
def test_bad_input_exits_2_with_one_stderr_line(args: list[str]) -> None:
    run = cogbeh_gen(*args)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr


def test_problems_writes_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "problems.jsonl"
    run = cogbeh_gen("problems", "-n", "5", "--out", str(out))
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and all(set(row) == {"nums", "target"} for row in rows)
    assert load_problems(out) == sample_problems(5, preset="paper", seed=0)


def test_problems_to_stdout_with_preset_and_seed() -> None:
    run = cogbeh_gen("problems", "-n", "4", "--preset", "tinyzero", "--seed", "9")
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert rows == [p.to_dict() for p in sample_problems(4, preset="tinyzero", seed=9)]


@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_unwritable_out_exits_2(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "problems.jsonl" if where == "under_a_file" else tmp_path
    run = cogbeh_gen("problems", "-n", "5", "--out", str(out))
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert "Traceback" not in run.stderr
