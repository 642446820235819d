"""Issue 12, items 3 and 9: a problem supply that scales to the whole space (prefix-stable, refusing what the
space cannot hold), and `--shard I/N` + `merge` giving back the unsharded run byte for byte."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cogbeh.countdown import Problem, is_solvable, iter_problems, sample_problems, take_problems
from cogbeh.countdown.problem import resolve_preset
from cogbeh.countdown.space import ProblemSupplyError, count_problems, in_space
from cogbeh.shards import parse_shard, shard_quota

DATA = Path(__file__).parent / "data"
CLI = [sys.executable, "-m", "cogbeh.cli.main"]
#: sha256 of every problem the paper preset served before this change (it stopped at these indices).
BEFORE = {0: (15280, "4f591b92e6d82b1e248685f348c4a4ee8bb663011a014467046f41845f3e73ed"),
          7: (15256, "8cf428ea4112e4b3a48927164b8ab0f92928c0e4819efe113c279a5294166dfc")}


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogbeh-gen: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def jsonl(problems: list[Problem]) -> str:
    return "".join(json.dumps(p.to_dict(), separators=(",", ":")) + "\n" for p in problems)


# --- supply: prefix-stable, as large as the space ---------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7])
def test_first_1000_paper_problems_are_byte_identical_to_before(seed: int) -> None:
    # The fixture files were written by the sampler at git HEAD before this change.
    before = (DATA / f"paper_seed{seed}_first1000.jsonl").read_text()
    assert jsonl(sample_problems(1000, preset="paper", seed=seed)) == before


@pytest.mark.parametrize("seed", [0, 7])
def test_paper_stream_keeps_every_old_problem_and_goes_past_the_old_end(seed: int) -> None:
    stop, digest = BEFORE[seed]
    problems = take_problems(20_000, preset="paper", seed=seed)
    assert hashlib.sha256(jsonl(problems[:stop]).encode()).hexdigest() == digest  # the old stream, unchanged
    assert len(problems) == 20_000 and len({p.id for p in problems}) == 20_000  # it used to stop at `stop`
    paper = resolve_preset("paper")
    assert all(in_space(p, paper) for p in problems[stop - 50:])


def test_paper_space_is_counted_exactly() -> None:
    # 7640 three-number and 167060 four-number problems (numbers 1..24, target 10..25, integer rules).
    assert count_problems("paper") == 174_700
    assert count_problems("paper", at_least=1000) >= 1000  # an early stop still proves the bound


def _brute_force(sizes: tuple[int, ...], nums: range, targets: range, rules: str) -> set[str]:
    found = set()
    for size in sizes:
        for draw in itertools.product(nums, repeat=size):  # every ordered draw, as the sampler makes them
            found |= {Problem(draw, t).id for t in targets if is_solvable(draw, t, rules=rules)}
    return found


def test_small_space_count_matches_brute_force_and_the_stream_uses_all_of_it_then_ends() -> None:
    overrides = {"sizes": (2, 3), "num_range": (1, 5), "target_range": (1, 12)}
    every = _brute_force((2, 3), range(1, 6), range(1, 13), "integer")
    assert count_problems("paper", **overrides) == len(every)
    stream = list(iter_problems(preset="paper", seed=3, **overrides))
    assert len(stream) == len(every) and {p.id for p in stream} == every
    assert take_problems(10 * len(every), preset="paper", seed=3, **overrides) == stream  # fewer, no error


def test_bag_space_counts_only_draws_the_bag_allows() -> None:
    overrides = {"sizes": (2,), "bag": (1, 1, 2, 25, 50), "large": (0, 1), "target_range": (1, 60)}
    preset = resolve_preset("classic", **overrides)
    problems = list(iter_problems(preset="classic", seed=0, **overrides))
    assert len(problems) == count_problems(preset) == len({p.id for p in problems})
    assert all(in_space(p, preset) for p in problems)
    assert not any(sorted(p.nums) == [25, 50] for p in problems)  # two large tiles: never drawn


def test_asking_for_more_than_the_space_holds_is_refused_with_the_count() -> None:
    tiny = {"sizes": (2,), "num_range": (1, 2), "target_range": (1, 4)}  # exactly 7 problems
    assert len(sample_problems(7, **tiny)) == 7
    with pytest.raises(ProblemSupplyError, match=r"holds 7 distinct problems.*at most 7"):
        sample_problems(8, **tiny)
    taken = [Problem((1, 1), 2), Problem((9, 9), 1)]  # one in the space, one outside it
    assert count_problems("paper", exclude=taken, **tiny) == 6
    with pytest.raises(ProblemSupplyError, match=r"6 after excluding"):
        sample_problems(7, exclude=taken, **tiny)


def test_cli_refuses_an_n_larger_than_the_space_in_one_line(tmp_path: Path) -> None:
    one_line_error(cli("-b", "backtracking", "-n", "200000", "--out", tmp_path / "o"), "174700", "-n 200000")
    assert not (tmp_path / "o").exists()  # refused before anything was written
    one_line_error(cli("problems", "-n", "200000"), "174700")
    spec = tmp_path / "big.yaml"
    spec.write_text("name: big\nn_train: 180000\nconditions:\n  - behavior: none\n")
    one_line_error(cli("ablation", spec, "--out", tmp_path / "a"), "174700", "n_train")


@pytest.mark.slow
def test_main_job_runs_past_the_old_limit(tmp_path: Path) -> None:
    done = cli("-b", "none", "-n", "16000", "--out", tmp_path / "o", "-q", "--workers", "2")
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "o" / "records.jsonl").read_text().splitlines()
    assert len(lines) == 16000 and len({json.loads(line)["problem_id"] for line in lines}) == 16000


# --- shards -----------------------------------------------------------------------------------------------


def test_parse_shard_and_quota() -> None:
    assert parse_shard("1/4") == (1, 4) and parse_shard(" 0 / 1 ") == (0, 1)
    for bad in ("4/4", "1/0", "x", "1-4", "-1/4"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)
    assert shard_quota(300, 1) == 300 and shard_quota(3, 4) == 3  # never more than the whole run
    assert 5000 < shard_quota(20_000, 4) <= 5000 * 1.07  # a few percent over n/N at scale


RUN = ("-b", "backtracking", "-n", "300", "-q", "--workers", "1")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unsharded 300-record run (`full`) and its 4 shards (`r-shard{i}of4`), made once for the module."""
    root = tmp_path_factory.mktemp("shards")
    procs = [subprocess.Popen([*CLI, *RUN, "--shard", f"{i}/4", "--out", str(root / f"r-shard{i}of4")],
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    full = cli(*RUN, "--out", root / "full")
    assert full.returncode == 0, full.stderr
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    return root


def shards(root: Path) -> list[Path]:
    return [root / f"r-shard{i}of4" for i in range(4)]


def test_each_shard_holds_only_its_indices_and_a_little_more_than_a_quarter(runs: Path) -> None:
    for i, folder in enumerate(shards(runs)):
        indices = [json.loads(line)["index"] for line in (folder / "records.jsonl").read_text().splitlines()]
        assert len(indices) == shard_quota(300, 4) and all(index % 4 == i for index in indices)
        assert json.loads((folder / "manifest.json").read_text())["arguments"]["shard"]["index"] == i


def test_four_shards_merge_into_the_unsharded_run_byte_for_byte(runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    done = cli("merge", *reversed(shards(runs)), "--out", out, "--format", "parquet")  # any order
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "records.jsonl")
    full = runs / "full"
    for name in ("records.jsonl", "rejected.jsonl", "README.md", "job.json"):
        assert (out / name).read_bytes() == (full / name).read_bytes(), name
    merged, unsharded = (json.loads((f / "manifest.json").read_text()) for f in (out, full))
    assert merged["counts"] == unsharded["counts"] and merged["stats"] == unsharded["stats"]
    assert merged["files"] == unsharded["files"] and merged["arguments"] == unsharded["arguments"]
    summed = merged["merged_from"]["counts_summed"]
    assert summed["accepted"] == 4 * shard_quota(300, 4) and len(merged["merged_from"]["shards"]) == 4
    assert (out / "parquet" / "train.parquet").is_file()


def test_merge_derives_a_control_and_its_formats_as_the_unsharded_run_does(runs: Path, tmp_path: Path) -> None:
    # The shards refuse --control/--format and send them to merge: it must give what the whole run gives.
    out, whole = tmp_path / "merged", tmp_path / "whole"
    extra = ("--control", "empty_cot", "--format", "parquet")
    done = cli("merge", *shards(runs), "--out", out, *extra, "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out / "empty_cot" / "records.jsonl")
    assert cli(*RUN, *extra, "--out", whole).returncode == 0
    for name in ("records.jsonl", "empty_cot/records.jsonl", "empty_cot/parquet/train.parquet"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_default_merge_folder_drops_the_shard_suffix(runs: Path, tmp_path: Path) -> None:
    for folder in shards(runs):
        shutil.copytree(folder, tmp_path / folder.name)
    done = cli("merge", *(tmp_path / f.name for f in shards(runs)), "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "records.jsonl").read_bytes() == (runs / "full" / "records.jsonl").read_bytes()


def test_merge_refuses_a_missing_or_duplicate_shard(runs: Path, tmp_path: Path) -> None:
    first, second, third, fourth = shards(runs)
    one_line_error(cli("merge", first, second, third, "--out", tmp_path / "a"), "3/4 missing")
    one_line_error(cli("merge", first, second, third, third, "--out", tmp_path / "b"), "2/4", "twice")
    one_line_error(cli("merge", runs / "full", first, "--out", tmp_path / "c"), "not a shard")
    assert not any((tmp_path / name).exists() for name in "abc")


def test_merge_refuses_shards_of_other_runs(runs: Path, tmp_path: Path) -> None:
    other = tmp_path / "seed1"
    assert cli(*RUN, "--seed", "1", "--shard", "3/4", "--out", other).returncode == 0
    one_line_error(cli("merge", *shards(runs)[:3], other, "--out", tmp_path / "m"), "other options", "seed")
    split3 = tmp_path / "of3"
    assert cli(*RUN, "--shard", "2/3", "--out", split3).returncode == 0
    one_line_error(cli("merge", *shards(runs)[:3], split3, "--out", tmp_path / "m"), "split 3 and 4 ways")


def test_merge_refuses_a_shard_that_stopped_before_the_cut(runs: Path, tmp_path: Path) -> None:
    copies = []
    for folder in shards(runs):
        copies.append(tmp_path / folder.name)
        shutil.copytree(folder, copies[-1])
    records = copies[1] / "records.jsonl"
    lines = records.read_text().splitlines(keepends=True)
    records.write_text("".join(lines[:40]))  # as if shard 1 had stopped early
    (copies[1] / "rejected.jsonl").write_text("")
    one_line_error(cli("merge", *copies, "--out", tmp_path / "m"), "shard 1/4", "stopped at index")


def test_merge_names_a_damaged_shard_manifest(runs: Path, tmp_path: Path) -> None:
    copies = []
    for folder in shards(runs):
        copies.append(tmp_path / folder.name)
        shutil.copytree(folder, copies[-1])
    (copies[2] / "manifest.json").write_text('{"arguments": ')  # cut short, or edited by hand
    one_line_error(cli("merge", *copies, "--out", tmp_path / "m"), "manifest.json is unreadable",
                   "rerun that shard with --overwrite")
    assert not (tmp_path / "m").exists()


def test_resume_with_another_shard_is_refused(runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "s"
    shutil.copytree(shards(runs)[0], copy)
    one_line_error(cli(*RUN, "--shard", "1/4", "--out", copy, "--resume"), "--shard")


@pytest.mark.parametrize(("extra", "word"), [
    (["--shard", "4/4"], "--shard"),
    (["--shard", "one"], "--shard"),
    (["--shard", "0/2", "--format", "parquet"], "merge"),
    (["--shard", "0/2", "--control", "empty_cot"], "merge"),
])
def test_bad_shard_options_are_one_line(extra: list[str], word: str, tmp_path: Path) -> None:
    one_line_error(cli(*RUN, *extra, "--out", tmp_path / "o"), word)
    assert not (tmp_path / "o").exists()


ABLATION = """name: tiny
seed: 0
preset: paper
n_train: 40
n_test: 10
formats: [parquet]
conditions:
  - behavior: backtracking
  - behavior: backtracking+verification
  - {control: empty_cot, source: backtracking}
"""


@pytest.mark.slow
def test_ablation_shards_merge_into_the_unsharded_ablation(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(ABLATION)
    procs = [subprocess.Popen([*CLI, "ablation", str(spec), "-q", "--shard", f"{i}/3", "--out",
                               str(tmp_path / f"a-shard{i}of3")], stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    assert cli("ablation", spec, "-q", "--out", tmp_path / "full").returncode == 0
    assert all(proc.wait(timeout=300) == 0 for proc in procs)
    done = cli("merge", *(tmp_path / f"a-shard{i}of3" for i in range(3)), "-q")
    assert done.returncode == 0, done.stderr
    merged, full = tmp_path / "a", tmp_path / "full"
    for config in ("backtracking", "backtracking_verification", "empty_cot"):
        for name in ("records.jsonl", "splits.json", "parquet/train.parquet", "parquet/test.parquet"):
            assert (merged / config / name).read_bytes() == (full / config / name).read_bytes(), (config, name)
    manifest = json.loads((merged / "manifest.json").read_text())
    assert manifest["splits"] == json.loads((full / "manifest.json").read_text())["splits"]
    one_line_error(cli("merge", tmp_path / "a-shard0of3", tmp_path / "a-shard1of3", "--out", tmp_path / "x"),
                   "2/3 missing")
