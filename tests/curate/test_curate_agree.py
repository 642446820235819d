"""`curate agree`: a labelling scored against reference labels, matched by id, errors never counted as 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.cli.main import main
from cogbeh.curate.labels import DocumentLabels, LabelError
from cogbeh.curate.scores import agreement, labels_of_row

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "curate" / "corpus.jsonl"


def _labelled(doc_id: str, counts: tuple[int, int, int, int], error: str | None = None) -> dict[str, object]:
    names = ("backtracking", "backward_chaining", "subgoal_setting", "verification")
    return {"id": doc_id, "text": "...", **{f"{n}_count": (None if error else c) for n, c in zip(names, counts, strict=True)},
            "contains_problem": None if error else True, "contains_solution": None if error else True,
            "label_error": error, "judge": "x"}


def test_rows_of_either_shape_give_labels() -> None:
    assert labels_of_row(_labelled("a", (1, 0, 2, 0))) == DocumentLabels(
        {"backtracking": 1, "backward_chaining": 0, "subgoal_setting": 2, "verification": 0}, True, True)
    hand = {"id": "b", "backtracking": 0, "backward_chaining": 1, "subgoal_setting": 0, "verification": 3,
            "contains_problem": True, "contains_solution": False}
    assert labels_of_row(hand).counts["verification"] == 3 and labels_of_row(hand).contains_solution is False
    assert labels_of_row(_labelled("c", (0, 0, 0, 0), error="no <count>")) == LabelError("no <count>")
    with pytest.raises(ValueError, match="no count for backtracking"):
        labels_of_row({"id": "d", "text": "x"})


def test_agreement_matches_by_id_and_counts_errors_apart() -> None:
    reference = [_labelled("a", (1, 0, 0, 0)), _labelled("b", (0, 0, 0, 1)), _labelled("c", (1, 1, 1, 1)),
                 _labelled("gone", (1, 0, 0, 0)), _labelled("bad", (0, 0, 0, 0), error="unparseable")]
    candidate = [_labelled("b", (0, 0, 0, 0)), _labelled("a", (1, 0, 0, 0)),
                 _labelled("c", (0, 0, 0, 0), error="judge failed")]
    result = agreement(reference, candidate)
    assert (result.compared, result.missing, result.reference_errors) == (3, 1, 1)
    assert result.table["backtracking"].tp == 1 and result.table["backtracking"].errors == 1
    assert result.table["verification"].fn == 1 and result.table["verification"].tn == 1


def test_cli_scores_rules_against_the_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cogbeh.curate.rules import RuleLabeler

    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = RuleLabeler().label([r["text"] for r in rows])
    labelled = tmp_path / "rules.jsonl"
    labelled.write_text("".join(json.dumps({"id": r["id"], **lab.to_row("rules")}) + "\n"
                                for r, lab in zip(rows, labels, strict=True)), encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["curate", "agree", str(FIXTURE), str(labelled), "--json"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["compared"] == len(rows) and report["missing"] == 0
    assert all(field["errors"] == 0 for field in report["fields"].values())
    assert report["fields"]["backtracking"]["recall"] > 0.9


def test_cli_refuses_disjoint_or_unlabelled_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "other.jsonl").write_text(json.dumps(_labelled("zzz", (0, 0, 0, 0))) + "\n")
    (tmp_path / "plain.jsonl").write_text(json.dumps({"id": "doc-001", "text": "x"}) + "\n")
    for candidate, message in (("other.jsonl", "no document of"), ("plain.jsonl", "has no count for")):
        with pytest.raises(SystemExit) as done:
            main(["curate", "agree", str(FIXTURE), str(tmp_path / candidate)])
        err = capsys.readouterr().err
        assert done.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
