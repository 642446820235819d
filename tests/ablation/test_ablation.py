"""Ablations: one shared problem set, identical by-problem splits, controls from their sources, a full manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cogbeh.ablation import AblationError, run_ablation
from cogbeh.cli.main import main
from cogbeh.countdown import Problem, sample_problems, save_problems
from cogbeh.formats import sha256_file
from cogbeh.records import Record, read_records
from cogbeh.spec import RunSpec, parse_spec

SMALL: dict[str, Any] = {
    "name": "small",
    "seed": 5,
    "n_train": 40,
    "n_test": 10,
    "formats": ["parquet", "trl"],
    "tokenizer": "test",
    "conditions": [
        {"behavior": "none"},
        {"behavior": "backtracking", "backtracks": 2},
        {"behavior": "all"},
        {"control": "empty_cot", "source": "all"},
        {"control": "length_matched", "source": "all"},
        {"control": "incorrect_only", "source": "all"},
        {"control": "shuffled_steps", "source": "all"},
        {"control": "cue_stripped", "source": "all"},
    ],
}


@pytest.fixture(scope="module")
def spec() -> RunSpec:
    return parse_spec(SMALL)


@pytest.fixture(scope="module")
def ablation(spec: RunSpec, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("ablation")
    return out, run_ablation(spec, out=out)


def _records(out: Path, config: str) -> list[Record]:
    return list(read_records(out / config / "records.jsonl"))


def test_every_config_has_its_rows_on_the_same_problems(ablation: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = ablation
    configs = manifest["config_order"]
    assert configs == ["none", "backtracking_k2", "all", "empty_cot", "length_matched", "incorrect_only",
                       "shuffled_steps", "cue_stripped"]
    problem_sets = {config: [r.problem_id for r in _records(out, config)] for config in configs}
    assert all(len(ids) == 50 for ids in problem_sets.values())
    assert len({tuple(ids) for ids in problem_sets.values()}) == 1  # same problems, same order
    assert all(manifest["conditions"][c]["rows"] == {"train": 40, "test": 10} for c in configs)


def test_split_is_by_problem_and_identical_across_configs(ablation: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = ablation
    tests = set()
    for config in manifest["config_order"]:
        split = json.loads((out / config / "splits.json").read_text())
        tests.add(tuple(split["test_problems"]))
        train = {r.problem_id for r in _records(out, config)} - set(split["test_problems"])
        assert len(train) == 40 and not train & set(split["test_problems"])
    assert len(tests) == 1


def test_controls_come_from_their_source(ablation: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = ablation
    source = _records(out, "all")
    for control in ("empty_cot", "length_matched", "shuffled_steps", "cue_stripped"):
        derived = _records(out, control)
        assert [r.id for r in derived] == [f"{r.id}-{control}" for r in source]
        assert manifest["conditions"][control]["source"] == "all"
    assert all("<think>\n</think>" in r.completion for r in _records(out, "empty_cot"))
    assert manifest["conditions"]["length_matched"]["control_stats"]["match_rate"] == 1.0
    assert manifest["conditions"]["length_matched"]["control_stats"]["tokenizer"] == "test"
    assert manifest["conditions"]["length_matched"]["control_stats"]["test_tokenizer"] is True
    wrong = _records(out, "incorrect_only")
    assert not any(r.correct for r in wrong) and all(r.control == "incorrect_only" for r in wrong)
    assert all(r.behavior_counts["backtracking"] == 2 for r in _records(out, "backtracking_k2"))


def test_manifest_has_checksums_versions_seeds_and_cost(ablation: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = ablation
    assert manifest["seed"] == 5 and manifest["provider"] == "symbolic"
    assert {"cogbeh-gen", "datasets", "pydantic", "python"} <= set(manifest["versions"])
    assert manifest["cost"]["usd"] == 0.0
    assert manifest["problems"]["sha256"] == sha256_file(out / "problems.jsonl")
    for config, entry in manifest["conditions"].items():
        assert entry["files"], config
        for name, digest in entry["files"].items():
            assert sha256_file(out / config / name) == digest
        assert 0.0 <= entry["stats"]["correct_rate"] <= 1.0
    assert manifest["conditions"]["all"]["generation"]["counts"]["accepted"] >= 50


def test_resume_reuses_the_runs_and_changes_nothing(spec: RunSpec, ablation: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = ablation
    before = {p: p.read_bytes() for p in out.rglob("records.jsonl")}
    again = run_ablation(spec, out=out, resume=True)
    assert {p: p.read_bytes() for p in out.rglob("records.jsonl")} == before
    data_files = {n: d for n, d in manifest["conditions"]["all"]["files"].items() if not n.endswith("manifest.json")}
    assert data_files.items() <= again["conditions"]["all"]["files"].items()  # run manifests hold timings


def test_folder_in_use_or_spec_changed_is_refused(spec: RunSpec, ablation: tuple[Path, dict[str, Any]]) -> None:
    out, _ = ablation
    with pytest.raises(AblationError, match="pass --resume"):
        run_ablation(spec, out=out)
    with pytest.raises(AblationError, match=r"differ .* spec seed 6 \(was 5\)"):
        run_ablation(parse_spec({**SMALL, "seed": 6}), out=out, resume=True)
    with pytest.raises(AblationError, match="contradict"):
        run_ablation(spec, out=out, resume=True, overwrite=True)


def test_llm_provider_without_a_model_stops_before_writing(spec: RunSpec, tmp_path: Path) -> None:
    with pytest.raises(AblationError, match="needs a model"):
        run_ablation(spec, out=tmp_path / "abl", provider="anthropic")
    assert not (tmp_path / "abl").exists()


def test_length_matched_without_a_tokenizer_stops_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = parse_spec({**SMALL, "tokenizer": None})
    with pytest.raises(AblationError, match=r"'length_matched'.*--tokenizer test.*'tokenizer:' in the spec"):
        run_ablation(bare, out=tmp_path / "abl")
    assert not (tmp_path / "abl").exists()
    spec_path = tmp_path / "bare.yaml"
    spec_path.write_text(yaml.safe_dump({**SMALL, "tokenizer": None}))
    with pytest.raises(SystemExit) as done:
        main(["ablation", str(spec_path), "--out", str(tmp_path / "cli")])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and err.count("\n") == 0 and "--tokenizer" in err
    assert not (tmp_path / "cli").exists()


def test_cli_tokenizer_overrides_the_spec_and_the_summary_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = {
        **SMALL,
        "tokenizer": None,
        "n_train": 6,
        "n_test": 2,
        "conditions": [{"behavior": "all"}, {"control": "dots", "source": "all"}],
    }
    spec_path = tmp_path / "dots.yaml"
    spec_path.write_text(yaml.safe_dump(small))
    with pytest.raises(SystemExit) as done:
        main(["ablation", str(spec_path), "--out", str(tmp_path / "out"), "--tokenizer", "test"])
    assert done.value.code == 0
    assert "tokens counted with tokenizer 'test'" in capsys.readouterr().err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["conditions"]["length_matched"]["control_stats"]["tokenizer"] == "test"


def test_excluded_problems_are_never_used(tmp_path: Path) -> None:
    small = {**SMALL, "n_train": 8, "n_test": 2, "conditions": [{"behavior": "none"}]}
    banned = sample_problems(5, seed=5)  # the first problems an unrestricted run would take
    path = save_problems(banned, tmp_path / "rl.jsonl")
    out = tmp_path / "out"
    manifest = run_ablation(parse_spec(small), out=out, exclude=str(path))
    used = {r.problem_id for r in _records(out, "none")}
    assert not used & {p.id for p in banned}
    assert manifest["problems"]["excluded"] == 5


def test_cli_runs_a_spec_file_and_reports_bad_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = tmp_path / "tiny.yaml"
    spec_path.write_text(yaml.safe_dump({**SMALL, "n_train": 6, "n_test": 2,
                                         "conditions": SMALL["conditions"][:1]}))
    with pytest.raises(SystemExit) as done:
        main(["ablation", str(spec_path), "--out", str(tmp_path / "out")])
    assert done.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "out") and "none" in captured.err
    spec_path.write_text(yaml.safe_dump({**SMALL, "colour": "red"}))
    with pytest.raises(SystemExit) as done:
        main(["ablation", str(spec_path), "--out", str(tmp_path / "other")])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown key 'colour'" in err and "tiny.yaml" in err


def test_same_spec_gives_byte_identical_records(spec: RunSpec, ablation: tuple[Path, dict[str, Any]],
                                                tmp_path: Path) -> None:
    out, _ = ablation
    # The same spec, run again in a fresh folder. (A spec with fewer conditions may share other problems: the
    # shared list is what every condition accepts.)
    run_ablation(parse_spec(SMALL), out=tmp_path)
    problems = [Problem(**json.loads(line)) for line in (tmp_path / "problems.jsonl").read_text().splitlines()]
    assert problems  # the shared list was written
    for config in ("none", "backtracking_k2", "all"):
        assert (tmp_path / config / "records.jsonl").read_bytes() == (out / config / "records.jsonl").read_bytes()
