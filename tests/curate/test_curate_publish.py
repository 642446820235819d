"""Publishing `curate rewrite` folders: one config per rewrite, loadable offline, the token never written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogbeh.curate.publish import REWRITE_KIND
from cogbeh.hub import PublishError, publish
from cogbeh.prompting import question_row

SECRET = "hf_TESTTOKENthatMustNeverBeWritten123"


def _rewrite_folder(folder: Path, style: str, n: int) -> None:
    folder.mkdir(parents=True)
    rows = []
    for i in range(n):
        question, thoughts, answer = f"What is {i} + {i}?", f"I add {i} and {i}; check: {2 * i} - {i} = {i}.", str(2 * i)
        rows.append({"id": f"{style}-{i}", "source_id": f"doc-{i}", "style": style, "question": question,
                     "thoughts": thoughts, "answer": answer, **question_row(question, thoughts, answer),
                     "checks": {"question": 100.0, "answer": "match"}, "raw": "not published"})
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"kind": REWRITE_KIND, "style": style, "model": "openai:m",
                                                      "checks": {"answer_match": 1.0}}), encoding="utf-8")


@pytest.fixture
def curated(tmp_path: Path) -> Path:
    _rewrite_folder(tmp_path / "set" / "rich", "rich", 3)
    _rewrite_folder(tmp_path / "set" / "minimal", "minimal", 2)
    return tmp_path / "set"


def test_rich_and_minimal_folders_publish_as_two_configs_that_load_offline(curated: Path, tmp_path: Path) -> None:
    import datasets

    result = publish(curated, "me/owm-behaviors", dry_run=True, out_folder=tmp_path / "repo")
    assert result.rows == {"minimal": {"train": 2}, "rich": {"train": 3}} and not result.uploaded
    uploaded = sorted(p.relative_to(tmp_path / "repo").as_posix() for p in (tmp_path / "repo").rglob("*")
                      if p.is_file() and ".cache" not in p.parts)
    assert uploaded == ["README.md", "data/minimal/train-00000-of-00001.parquet",
                        "data/rich/train-00000-of-00001.parquet"]  # nothing half-written left behind
    rich = datasets.load_dataset(str(tmp_path / "repo"), "rich")["train"]
    assert rich.num_rows == 3 and "raw" not in rich.column_names  # only the published columns
    row = rich[0]
    assert row["prompt"].endswith("<think>") and row["completion"].endswith("</answer>")
    assert row["question"] in row["prompt"]
    card = (tmp_path / "repo" / "README.md").read_text(encoding="utf-8")
    assert "license:" not in card.split("---")[1]  # none invented
    assert "| `rich` | 3 | rich | openai:m |" in card


def test_a_single_rewrite_folder_publishes_under_its_style(curated: Path, tmp_path: Path) -> None:
    result = publish(curated / "minimal", "me/x", dry_run=True, out_folder=tmp_path / "repo")
    assert result.rows == {"minimal": {"train": 2}}


def test_an_empty_rewrite_is_refused_in_one_line(tmp_path: Path) -> None:
    _rewrite_folder(tmp_path / "rich", "rich", 0)
    with pytest.raises(PublishError, match="no rewritten rows; run `cogbeh-gen curate rewrite` first"):
        publish(tmp_path / "rich", "me/x", dry_run=True, out_folder=tmp_path / "repo")


def test_upload_never_writes_the_token(curated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    class Api:
        def create_repo(self, repo_id: str, **kwargs: object) -> None:
            calls.append("create_repo")

        def upload_folder(self, **kwargs: object) -> None:
            calls.append("upload_folder")

    monkeypatch.setenv("HF_TOKEN", SECRET)
    result = publish(curated, "me/x", out_folder=tmp_path / "repo", api=Api())
    assert result.uploaded and calls == ["create_repo", "upload_folder"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
