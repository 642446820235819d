"""Bounds and publish (issue 12, items 4 and 5): user templates cannot take the machine, counts have a documented
maximum, and publish never reads or writes outside its folders. Each attack of the issue is reproduced here; each
is refused quickly with one line (exit 2 through the CLI) and leaves everything outside the folders as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cogbeh.ablation import run_ablation
from cogbeh.cli.main import main
from cogbeh.hub import PublishError, publish
from cogbeh.outfolder import MARKER
from cogbeh.paths import templates_dir
from cogbeh.pipeline import JobConfig, run
from cogbeh.sandbox import MAX_OUTPUT, MAX_SIZE
from cogbeh.spec import parse_spec
from cogbeh.templating import TemplateError, render

SPEC: dict[str, Any] = {"name": "bounds", "n_train": 6, "n_test": 2,
                        "conditions": [{"behavior": "none"}, {"behavior": "backtracking"}]}


def cli_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI in-process; it must exit 2 with exactly one `cogbeh-gen: error:` line and no traceback."""
    with pytest.raises(SystemExit) as done:
        main(args)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert done.value.code == 2, err
    assert len(lines) == 1 and lines[0].startswith("cogbeh-gen: error: "), err
    return lines[0]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` (links not followed) with a hash of its bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[path.relative_to(root).as_posix()] = f"link:{path.readlink()}"
        elif path.is_file():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def templates_with(folder: Path, name: str, text: str) -> Path:
    """A copy of the shipped templates with `name` replaced by `text`."""
    shutil.copytree(templates_dir(), folder)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


# Item 4: user templates render under a budget ------------------------------------------------------------------

ATTACKS = [  # (template text, what the one line says); the first four are the issue's own
    ("{{ 'a' * 10**10 }}", "'*' would make 10,000,000,000 characters"),
    ("{{ 'x'|center(10**10) }}", "center(10000000000) would make"),
    ("{{ 10 ** 1000000000 }}", "'**' would make a number of about 3,321,928,095 bits"),
    ("{% for i in range(10**9) %}x{% endfor %}", "range(1000000000) has over 100,000 items"),
    ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "loop iterations"),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}", "calls"),
    ("{% for i in range(99999) %}{{ 'y' * 99 }}{% endfor %}", f"output passes {MAX_OUTPUT:,} characters"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "'~' would make"),
    ("{% set ns = namespace(x=3) %}{% for i in range(99) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
     "'*' would make a number of over 4,096 bits"),
    ("{{ '{:>1000000000}'.format(1) }}", "width or precision of 1000000000"),
    ("{{ '%1000000000d' % 1 }}", "width or precision of 1000000000"),
    ("{{ 'x'.ljust(10**9) }}", "ljust() would make"),
    ("{{ '%s%s'|format('x' * 600000, 'y') }}", "'%' formatting would make"),
    ("{{ 'x'|indent(10**9) }}", "indent(1000000000) would make"),
    ("{{ ('ab ' * 300000)|wordwrap(1) }}", "wordwrap would make"),
    ("{{ ([1] * 1000)|join('x' * 100000) }}", "join would make"),
    ("{{ ('a' * 100000)|replace('a', 'b' * 1000) }}", "replace would make"),
    ("{{ (1).to_bytes(10**9, 'big') }}", "to_bytes() would make"),
    ("{{ ('{0}' * 1000).format('x' * 900000) }}", "str.format would make"),
    ("{% set b = 'x' * 900000 %}{{ [b, b, b] }}", "an output value would make"),
    ("{{ lipsum(10**9) }}", "'lipsum' is undefined"),
]


@pytest.mark.parametrize(("text", "says"), ATTACKS)
def test_template_attacks_stop_fast_with_one_line(tmp_path: Path, text: str, says: str) -> None:
    root = templates_with(tmp_path / "tpl", "prompts/query.jinja", "Numbers {{ nums|join(', ') }}.\n" + text)
    began = time.perf_counter()
    with pytest.raises(TemplateError) as caught:
        render("prompts/query.jinja", root=str(root), nums=[1, 2, 3], target=6)
    assert time.perf_counter() - began < 10
    message = str(caught.value)
    assert "\n" not in message and says in message, message
    assert message.startswith("template 'prompts/query.jinja'")


@pytest.mark.parametrize(("text", "says"), ATTACKS[:4])
def test_the_issue_attacks_through_the_cli_exit_2_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, says: str
) -> None:
    root = templates_with(tmp_path / "tpl", "prompts/query.jinja", "Numbers:\n" + text)
    out = tmp_path / "run"
    began = time.perf_counter()
    line = cli_error(["-b", "backtracking", "-n", "3", "--template-dir", str(root), "--out", str(out)], capsys)
    assert time.perf_counter() - began < 20
    assert "template 'prompts/query.jinja', line 2: " in line and says in line, line
    assert not out.exists()


def test_a_trace_template_attack_is_caught_where_traces_are_worded(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    source = (templates_dir() / "traces" / "trace.jinja").read_text(encoding="utf-8")
    root = templates_with(tmp_path / "tpl", "traces/trace.jinja", "{{ 'x'|center(10**10) }}\n" + source)
    line = cli_error(["-b", "backtracking", "-n", "3", "--template-dir", str(root), "--out", str(tmp_path / "o")],
                     capsys)
    assert "template 'traces/trace.jinja', line 1: center(10000000000) would make" in line
    assert not (tmp_path / "o").exists()


def test_ordinary_template_code_still_works_in_the_sandbox(tmp_path: Path) -> None:
    text = ("{{ nums|join_and }}; {{ 3 ** 4 }} {{ 'ab'|center(6) }}|{{ '%3d' % 7 }} {{ '{:>3}'.format(8) }} "
            "{{ [[1], [2]]|sum(start=[]) }} {{ [1, 2]|sum }} {{ 'a,b'.split(',')|join('-') }} "
            "{% for i in range(3) %}{{ i ~ loop.index }}{% endfor %} {{ ('x' * 10)|length }}")
    root = templates_with(tmp_path / "tpl", "prompts/query.jinja", text)
    assert render("prompts/query.jinja", root=str(root), nums=[1, 2, 3]) == (
        "1, 2 and 3; 81   ab  |  7   8 [1, 2] 3 a-b 011223 10")
    big = templates_with(tmp_path / "tpl2", "prompts/query.jinja", "{{ 'x' * size }}")
    assert len(render("prompts/query.jinja", root=str(big), size=MAX_SIZE)) == MAX_SIZE


def test_the_shipped_templates_give_the_same_bytes_in_the_bounded_sandbox(tmp_path: Path) -> None:
    copy = tmp_path / "tpl"
    shutil.copytree(templates_dir(), copy)
    job = {"behaviors": frozenset({"backtracking", "verification", "subgoal_setting", "backward_chaining"}),
           "n": 40, "backtracks": (2, 4)}
    shipped = run(JobConfig(out=tmp_path / "a", **job))
    bounded = run(JobConfig(out=tmp_path / "b", template_dir=str(copy), **job))
    assert (tmp_path / "a" / "records.jsonl").read_bytes() == (tmp_path / "b" / "records.jsonl").read_bytes()
    assert len(shipped.records) == len(bounded.records) == 40


# Item 4: counts have a documented maximum ----------------------------------------------------------------------

@pytest.mark.parametrize(("args", "says"), [
    (["-b", "backtracking", "--backtracks", "1-1000000"], "--backtracks is at most 16 per trace"),
    (["-b", "backtracking", "--backtracks", "17"], "--backtracks is at most 16 per trace"),
    (["-b", "backtracking", "--backtracks", "9" * 5000], "--backtracks is at most 16 per trace"),
    (["-b", "backward_chaining", "--backward-steps", "1-1000000"], "--backward-steps is at most 4 per trace"),
    (["-b", "backward_chaining", "--backward-steps", "1-3"], "chains back at most 2 step(s)"),
])
def test_count_flags_past_their_maximum_are_refused_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            args: list[str], says: str) -> None:
    began = time.perf_counter()
    line = cli_error([*args, "-n", "2", "--out", str(tmp_path / "o")], capsys)
    assert time.perf_counter() - began < 5
    assert says in line and len(line) < 300, line
    assert not (tmp_path / "o").exists()


def test_the_maximum_itself_still_runs(tmp_path: Path) -> None:
    result = run(JobConfig(behaviors=frozenset({"backtracking"}), n=2, out=tmp_path / "o", backtracks=(16, 16)))
    assert all(r.behavior_counts["backtracking"] == 16 for r in result.records)


@pytest.mark.parametrize(("changes", "says"), [
    ({"conditions": [{"behavior": "backtracking", "backtracks": 9999}]}, "'backtracks' is at most 16 per trace"),
    ({"conditions": [{"behavior": "backtracking", "backtracks": [1, 1000000]}]}, "at most 16 per trace"),
    ({"name": "../../x"}, "'../../x' must be one plain folder name"),
    ({"name": "/tmp/x"}, "must be one plain folder name"),
    ({"name": ".."}, "must be one plain folder name"),
])
def test_spec_counts_and_names_are_refused_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str],
                                                           changes: dict[str, Any], says: str) -> None:
    project = tmp_path / "deep" / "project"
    project.mkdir(parents=True)
    (project / "spec.yaml").write_text(yaml.safe_dump({**SPEC, **changes}), encoding="utf-8")
    monkeypatch.chdir(project)
    before = snapshot(tmp_path)
    began = time.perf_counter()
    line = cli_error(["ablation", "spec.yaml"], capsys)
    assert time.perf_counter() - began < 5
    assert says in line, line
    assert snapshot(tmp_path) == before  # no outputs/ made, nothing written above the project either


# Item 5: publish never touches what it did not write -----------------------------------------------------------

@pytest.fixture(scope="module")
def ablation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ablation") / "run"
    run_ablation(parse_spec(SPEC), out=out)
    return out


@pytest.fixture
def run_dir(ablation_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the ablation folder, free to tamper with."""
    return Path(shutil.copytree(ablation_dir, tmp_path / "runs" / "run"))


def publish_cli(run_dir: Path, out: Path) -> list[str]:
    return ["publish", str(run_dir), "--repo-id", "me/bounds", "--dry-run", "--out", str(out)]


def test_publish_refuses_a_folder_it_did_not_make(run_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "README.md").write_text("# my project\n")
    (project / "data" / "important.csv").write_text("a,b\n1,2\n")
    before = snapshot(tmp_path)
    line = cli_error(publish_cli(run_dir, project), capsys)
    assert "not a dataset folder written by publish" in line and MARKER in line
    assert snapshot(tmp_path) == before


def test_a_republish_replaces_only_its_own_files(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    publish(run_dir, "me/bounds", dry_run=True, out_folder=out)
    written = json.loads((out / MARKER).read_text())["files"]
    assert "README.md" in written and "data/none/train-00000-of-00001.parquet" in written
    (out / "data" / "mine.csv").write_text("keep me\n")
    (out / "notes.txt").write_text("keep me too\n")
    (out / "data" / "old_config").mkdir()
    (out / "data" / "old_config" / "train-00000-of-00001.parquet").write_bytes(b"stale")
    marker = json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(json.dumps({"files": [*marker["files"], "data/old_config/train-00000-of-00001.parquet"]}))
    result = publish(run_dir, "me/bounds", dry_run=True, out_folder=out)
    assert result.rows == {"none": {"train": 6, "test": 2}, "backtracking": {"train": 6, "test": 2}}
    assert (out / "data" / "mine.csv").read_text() == "keep me\n" and (out / "notes.txt").exists()
    assert not (out / "data" / "old_config").exists()  # publish's own stale file, and the folder it emptied
    assert sorted(json.loads((out / MARKER).read_text())["files"]) == sorted(written)


def test_a_crafted_config_order_reads_and_writes_nothing_outside(run_dir: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "x"  # what run/../../x and hub/data/../../x both point at
    victim.mkdir()
    shutil.copy(run_dir / "none" / "records.jsonl", victim / "records.jsonl")
    (victim / "secret.txt").write_text("private\n")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["config_order"] = ["../../x"]
    manifest["conditions"]["../../x"] = manifest["conditions"]["none"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(victim)
    line = cli_error(publish_cli(run_dir, tmp_path / "runs" / "hub"), capsys)
    assert "'../../x' is not a plain folder name" in line
    assert snapshot(victim) == before and not (tmp_path / "runs" / "hub").exists()


def test_a_config_name_missing_from_conditions_is_one_line(run_dir: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["config_order"] = ["none", "ghost"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    assert "'config_order' names 'ghost'" in cli_error(publish_cli(run_dir, tmp_path / "hub"), capsys)


def test_a_symbolic_link_out_of_the_run_folder_is_refused(run_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run_dir / "none", elsewhere)
    (run_dir / "none").symlink_to(elsewhere, target_is_directory=True)
    line = cli_error(publish_cli(run_dir, tmp_path / "hub"), capsys)
    assert "leads outside" in line and not (tmp_path / "hub").exists()


def test_a_main_job_manifest_with_a_crafted_condition_is_refused(tmp_path: Path) -> None:
    result = run(JobConfig(behaviors=frozenset({"backtracking"}), n=3, out=tmp_path / "run"))
    manifest = json.loads((result.folder / "manifest.json").read_text())
    manifest["condition"] = "../../../x"
    (result.folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishError, match="is not a plain folder name"):
        publish(result.folder, "me/one", dry_run=True, out_folder=tmp_path / "hub")
    assert not (tmp_path / "hub").exists()


def test_a_tampered_marker_or_a_link_in_a_published_folder_is_refused(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "hub"
    publish(run_dir, "me/bounds", dry_run=True, out_folder=out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    marker = json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(json.dumps({"files": [*marker["files"], "../victim.txt"]}))
    with pytest.raises(PublishError, match="not a plain path inside"):
        publish(run_dir, "me/bounds", dry_run=True, out_folder=out)
    assert victim.read_text() == "keep\n"
    (out / MARKER).write_text(json.dumps(marker))
    outside = tmp_path / "outside"
    shutil.move(out / "data", outside)
    (out / "data").symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    with pytest.raises(PublishError, match="leads outside"):
        publish(run_dir, "me/bounds", dry_run=True, out_folder=out)
    assert snapshot(outside) == before


def test_the_marker_stays_on_this_machine(run_dir: Path, tmp_path: Path) -> None:
    from huggingface_hub.utils import DEFAULT_IGNORE_PATTERNS, filter_repo_objects

    publish(run_dir, "me/bounds", dry_run=True, out_folder=tmp_path / "hub")
    assert (tmp_path / "hub" / MARKER).is_file()
    # upload_folder (and `hf upload`) skip what these patterns match: the marker never reaches the Hub
    assert list(filter_repo_objects([MARKER], ignore_patterns=DEFAULT_IGNORE_PATTERNS)) == []
