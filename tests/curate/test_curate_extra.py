"""Without the `curate` extra, every curate command says which extra to install, in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Runs the CLI with the extra's packages made unimportable (None in sys.modules: ImportError on import).
SCRIPT = """
import sys
for name in ("datatrove", "math_verify", "fasttext", "rapidfuzz"):
    sys.modules[name] = None
from cogbeh.cli.main import main
main(sys.argv[1:])
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.mark.parametrize("args", [
    ["curate", "classify", "corpus.jsonl", "--out", "out"],
    ["curate", "rewrite", "rich.jsonl", "--out", "rw", "--model", "openai:m"],
    ["curate", "distill", "labelled.jsonl", "--out", "ft"],
])
def test_curate_without_the_extra_names_it(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"id": "a", "text": "Solve x + 1 = 2. Then x = 1."}\n')
    (tmp_path / "rich.jsonl").write_text('{"id": "a", "text": "Solve x + 1 = 2. Then x = 1."}\n')
    (tmp_path / "labelled.jsonl").write_text('{"id": "a", "text": "x", "backtracking_count": 0}\n')
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'cogbeh-gen[curate]'" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_select_needs_no_extra(tmp_path: Path) -> None:
    row = ('{"id": "a", "text": "Solve x + 1 = 2. So x = 1.", "backtracking_count": 0, "backward_chaining_count": 0, '
           '"subgoal_setting_count": 0, "verification_count": 0, "contains_problem": true, '
           '"contains_solution": true, "label_error": null, "judge": "rules"}\n')
    (tmp_path / "labelled.jsonl").write_text(row)
    done = _run("curate", "select", "labelled.jsonl", "--out", "sel", "--tokens", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sel" / "minimal.jsonl").is_file()


def test_the_main_job_works_without_the_extra(tmp_path: Path) -> None:
    done = _run("--behavior", "backtracking", "-n", "3", "--out", str(tmp_path / "run"), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "records.jsonl").read_text().count("\n") == 3


def test_curate_help_imports_no_heavy_package(tmp_path: Path) -> None:
    script = ("import sys\nfrom cogbeh.cli.main import main\ntry:\n    main(['curate', '--help'])\nexcept SystemExit:\n"
              "    pass\nheavy = ('torch', 'datasets', 'datatrove', 'math_verify', 'fasttext', 'pyarrow', 'anthropic', "
              "'openai', 'matplotlib')\nprint('LOADED', [m for m in heavy if m in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "classify" in done.stdout and "LOADED []" in done.stdout
