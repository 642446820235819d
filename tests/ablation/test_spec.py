"""RunSpec: unknown keys are named with their file, and every validator fires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cogbeh.paths import generators_dir
from cogbeh.spec import SpecError, load_spec, parse_spec

BASE: dict[str, Any] = {"name": "t", "n_train": 10, "conditions": [{"behavior": "all"}]}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "my-spec.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_unknown_top_level_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {**BASE, "n_trian": 5})
    with pytest.raises(SpecError, match=r"my-spec\.yaml: unknown key 'n_trian'"):
        load_spec(path)


def test_unknown_condition_key_names_the_key_where_and_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {**BASE, "conditions": [{"behavior": "all", "behaviour": "x"}]})
    with pytest.raises(SpecError, match=r"my-spec\.yaml: unknown key 'behaviour' at conditions\.0\.behaviour"):
        load_spec(path)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"behavior": "all", "name": "Bad-Name"}, "must be snake_case"),
        ({"behavior": "juggling"}, "unknown behavior 'juggling'"),
        ({"control": "dropout", "source": "all"}, "unknown control 'dropout'"),
        ({"behavior": "all", "control": "empty_cot"}, "exactly one of 'behavior' or 'control'"),
        ({"name": "x"}, "exactly one of 'behavior' or 'control'"),
        ({"control": "empty_cot"}, "needs a 'source'"),
        ({"behavior": "none", "source": "all"}, "'source' is only for controls"),
        ({"control": "empty_cot", "source": "all", "backtracks": 2}, "belong to the source condition"),
        ({"behavior": "verification", "backtracks": 2}, "needs backtracking in the behavior"),
        ({"behavior": "backtracking", "backtracks": 0}, "for 0 use behavior: none"),
        ({"behavior": "backtracking", "backtracks": [3, 1]}, "LOW <= HIGH"),
        ({"control": "empty_cot", "source": "verification"}, "is not a behavior condition here"),
    ],
)
def test_condition_validators_fire(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, "conditions": [{"behavior": "all"}, condition]}, origin="x.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"formats": ["parquet", "csv"]}, "unknown format 'csv'"),
        ({"n_train": 0}, "n_train: Input should be greater than or equal to 1"),
        ({"n_test": -1}, "n_test"),
        ({"provider": "gemini"}, "provider"),
        ({"conditions": []}, "conditions"),
        ({"conditions": [{"behavior": "all"}, {"behavior": "all"}]}, "both named 'all'"),
    ],
)
def test_spec_validators_fire(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec({**BASE, **change}, origin="x.yaml")


def test_files_that_are_not_specs(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        load_spec(_write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "missing.yaml")


def test_sources_match_by_name_or_behavior_set_and_config_names_are_derived() -> None:
    spec = parse_spec({**BASE, "conditions": [
        {"behavior": "verification+backtracking"},
        {"behavior": "backtracking", "backtracks": [1, 2], "incorrect": True},
        {"control": "dots", "source": "backtracking+verification"},
        {"name": "cues", "control": "cue_stripped", "source": "backtracking_k1_2_incorrect"},
    ]})
    assert [c.config for c in spec.conditions] == [
        "backtracking_verification", "backtracking_k1_2_incorrect", "length_matched", "cues"]
    assert [spec.source_of(c).config for c in spec.conditions[2:]] == [
        "backtracking_verification", "backtracking_k1_2_incorrect"]


def test_shipped_specs_validate() -> None:
    paper = load_spec("paper")  # a shipped name resolves to generators/paper.yaml
    assert [c.config for c in paper.conditions] == [
        "none", "backtracking", "backtracking_verification", "backtracking_backward_chaining",
        "backtracking_subgoal_setting", "all", "empty_cot", "length_matched", "incorrect_only"]
    assert (paper.n_train, paper.n_test) == (1000, 200)
    assert all(paper.source_of(c).config == "all" for c in paper.conditions if c.control)
    sweep = load_spec(generators_dir() / "backtrack-sweep.yaml")
    assert [c.backtrack_range for c in sweep.conditions] == [None, (1, 1), (2, 2), (4, 4), (8, 8)]
    assert sweep.conditions[0].behavior == "none"


def test_shipped_specs_with_length_matched_name_a_tokenizer_that_loads_offline() -> None:
    from cogbeh.controls import check_control

    for path in sorted(generators_dir().glob("*.yaml")):
        spec = load_spec(path)
        for condition in spec.conditions:
            if condition.control is not None:
                check_control(condition.control, tokenizer=spec.tokenizer)  # ControlError if missing
