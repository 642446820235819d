"""The corpus side of `curate classify` as a library: reading sources, sharding, truncation, and a local
datatrove run that labels every document exactly once with the documented columns."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.classify_run import ClassifyError, JudgeSettings, classify_corpus
from cogbeh.curate.corpus import CorpusError, CorpusSource, read_corpus, shard_corpus, truncate
from cogbeh.curate.executors import ExecutorOptions
from cogbeh.curate.labels import LABEL_FIELDS, DocumentLabels, LabelError
from cogbeh.tokenizer import load_tokenizer


class StandIn:
    """A tiny labeler: counts 'wait' as backtracking and 'check' as verification; 'BROKEN' is an error."""

    name = "stand-in"

    def __init__(self, spec: str, **options: object) -> None:
        self.options = options

    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]:
        results: list[DocumentLabels | LabelError] = []
        for text in texts:
            if "BROKEN" in text:
                results.append(LabelError("unparseable answer"))
                continue
            counts = dict.fromkeys(BEHAVIORS, 0)
            counts.update(backtracking=text.lower().count("wait"), verification=text.lower().count("check"))
            results.append(DocumentLabels(counts, contains_problem="?" in text, contains_solution=True))
        return results


class CapError(Exception):
    """An exception pickle cannot rebuild (its __init__ takes two arguments), like the judge's cost-cap error."""

    def __init__(self, spent: float, cap: float) -> None:
        super().__init__(f"cap {cap} reached after {spent}")


class OverBudget(StandIn):
    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]:
        raise CapError(2.0, 1.0)


def write_jsonl(path: Path, rows: list[dict], *, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def docs(n: int, start: int = 0) -> list[dict]:
    return [{"text": f"Find x? {i}.\nWait, let me check {i}.\n", "url": f"https://x/{i}"}
            for i in range(start, start + n)]


def labelled_rows(out: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((out / "labelled").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


# --- reading -------------------------------------------------------------------------------------------

def test_jsonl_without_id_column_gets_stable_row_ids(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", docs(3))
    read = list(read_corpus(CorpusSource(str(path))))
    assert [d["id"] for d in read] == ["c.jsonl:0", "c.jsonl:1", "c.jsonl:2"]
    assert read[0] == {"id": "c.jsonl:0", "text": docs(1)[0]["text"], "url": "https://x/0"}
    assert read == list(read_corpus(CorpusSource(str(path))))


def test_folder_of_parquet_and_gzipped_jsonl_with_id_and_text_columns(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    pq.write_table(pa.table({"doc": ["a?", "b"], "key": ["k1", "k2"], "score": [1.5, 2.0]}),
                   folder / "part-0.parquet")
    write_jsonl(folder / "sub" / "part-1.jsonl.gz", [{"doc": "c", "key": "k3", "score": 3.0}], gz=True)
    (folder / "notes.txt").write_text("not data")
    source = CorpusSource(str(folder), text_column="doc", id_column="key")
    read = list(read_corpus(source))
    assert [(d["id"], d["text"], d["score"]) for d in read] == [("k1", "a?", 1.5), ("k2", "b", 2.0), ("k3", "c", 3.0)]
    assert [d["id"] for d in read_corpus(CorpusSource(str(folder), text_column="doc", limit=2))] == \
        ["part-0.parquet:0", "part-0.parquet:1"]


def test_local_dataset_folder_is_read_through_datasets_offline(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    folder = tmp_path / "owm"
    write_jsonl(folder / "data" / "train.jsonl", [{"text": "t0", "id": "a"}, {"text": "t1", "id": "b"}])
    write_jsonl(folder / "data" / "test.jsonl", [{"text": "held out", "id": "z"}])
    (folder / "README.md").write_text("---\nconfigs:\n- config_name: default\n  data_files:\n"
                                      "  - split: train\n    path: data/train.jsonl\n"
                                      "  - split: test\n    path: data/test.jsonl\n---\n")
    assert [d["id"] for d in read_corpus(CorpusSource(str(folder)))] == ["a", "b"]
    assert [d["text"] for d in read_corpus(CorpusSource(str(folder), split="test"))] == ["held out"]
    with pytest.raises(CorpusError, match="cannot read dataset"):
        list(read_corpus(CorpusSource(str(folder), split="nope")))


@pytest.mark.parametrize(("source", "message"), [
    (CorpusSource("c.jsonl", text_column="body"), r"no text column 'body' in c.jsonl row 0; columns: text, url"),
    (CorpusSource("c.jsonl", id_column="key"), r"no id column 'key'"),
    (CorpusSource("c.jsonl", text_column="url"), r"input column 'text' .* clashes"),
    (CorpusSource("missing.jsonl"), r"missing.jsonl: no such file or folder"),
])
def test_bad_sources_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: CorpusSource,
                                         message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "c.jsonl", docs(2))
    with pytest.raises(CorpusError, match=message):
        list(read_corpus(source))


# --- sharding ----------------------------------------------------------------------------------------------

def test_sharding_is_reused_for_the_same_source_and_refused_for_another(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(25))))
    out = tmp_path / "run"
    index = shard_corpus(source, out, docs_per_shard=10)
    assert (index["shards"], index["documents"]) == (3, 25)
    files = sorted((out / "shards").iterdir())
    assert [p.name for p in files] == ["00000.jsonl", "00001.jsonl", "00002.jsonl"]
    assert [len(p.read_text().splitlines()) for p in files] == [10, 10, 5]
    stamps = [p.stat().st_mtime_ns for p in files]
    assert shard_corpus(source, out, docs_per_shard=10) == index
    assert [p.stat().st_mtime_ns for p in files] == stamps  # reused, not rewritten
    other = CorpusSource(str(write_jsonl(tmp_path / "d.jsonl", docs(5))))
    with pytest.raises(CorpusError, match="holds shards of another source"):
        shard_corpus(other, out, docs_per_shard=10)
    assert shard_corpus(other, out, docs_per_shard=10, overwrite=True)["documents"] == 5
    assert [p.name for p in (out / "shards").iterdir()] == ["00000.jsonl"]


def test_shards_without_an_index_are_redone(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(5))))
    out = tmp_path / "run"
    (out / "shards").mkdir(parents=True)
    (out / "shards" / "00007.jsonl").write_text('{"id": "stale", "text": "x"}\n')  # a killed sharding
    shard_corpus(source, out, docs_per_shard=2)
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["00000.jsonl", "00001.jsonl", "00002.jsonl"]


# --- truncation --------------------------------------------------------------------------------------------

def test_truncation_cuts_to_the_token_budget_then_back_to_the_last_newline() -> None:
    tokenizer = load_tokenizer("test")
    text = "".join(f"line {i} adds some words here\n" for i in range(200))
    cut, was_cut = truncate(text, tokenizer, 100)
    assert was_cut and text.startswith(cut) and not cut.endswith("\n")
    assert tokenizer.count(cut) <= 100 and text[len(cut)] == "\n"
    assert tokenizer.count(text[: text.index("\n", len(cut) + 1)]) > 100  # the next whole line would not fit
    assert truncate("short\ntext", tokenizer, 100) == ("short\ntext", False)
    assert truncate(text, tokenizer, 0) == (text, False)
    no_newline = "word " * 500
    cut, was_cut = truncate(no_newline, tokenizer, 50)
    assert was_cut and no_newline.startswith(cut) and tokenizer.count(cut) <= 50


# --- a local run -------------------------------------------------------------------------------------------

def run_local(source: CorpusSource, out: Path, **kwargs: object) -> dict:
    judge = kwargs.pop("judge", JudgeSettings("stand-in", truncate=0))
    return classify_corpus(source, out, judge=judge, executor=ExecutorOptions(workers=1),
                           labeler_factory=StandIn, **kwargs)  # type: ignore[arg-type]


def test_local_run_labels_every_document_once_with_flat_columns(tmp_path: Path) -> None:
    rows = docs(45) + [{"text": "", "url": "empty"}, {"text": "BROKEN answer", "url": "bad"}]
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", rows)))
    out = tmp_path / "run"
    manifest = run_local(source, out, docs_per_shard=10)
    labelled = labelled_rows(out)
    assert sorted(r["id"] for r in labelled) == sorted(f"c.jsonl:{i}" for i in range(47))
    assert list(labelled[0]) == ["id", "text", "url", *LABEL_FIELDS, "truncated"]
    by_url = {r["url"]: r for r in labelled}
    assert by_url["https://x/3"]["backtracking_count"] == 1 and by_url["https://x/3"]["judge"] == "stand-in"
    assert by_url["empty"]["text"] == "" and by_url["empty"]["backtracking_count"] == 0
    assert by_url["bad"]["label_error"] == "unparseable answer" and by_url["bad"]["verification_count"] is None
    assert manifest["status"] == "complete" and manifest["documents"] == 47 and manifest["errors"] == 1
    assert manifest["behaviors"] == {"backtracking": 45, "backward_chaining": 0, "subgoal_setting": 0,
                                     "verification": 45}
    assert (manifest["tasks"], manifest["shards"], manifest["contains_problem"]) == (5, 5, 45)
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert len(list((out / "logs" / "completions").iterdir())) == 5
    again = run_local(source, out, docs_per_shard=10)  # every task done: nothing relabelled, same counts
    assert labelled_rows(out) == labelled and again["documents"] == 47


def test_fewer_tasks_than_shards_still_label_each_document_once(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(23))))
    manifest = classify_corpus(source, tmp_path / "run", judge=JudgeSettings("stand-in", truncate=0),
                               docs_per_shard=5, executor=ExecutorOptions(tasks=2, workers=1),
                               labeler_factory=StandIn)
    ids = [r["id"] for r in labelled_rows(tmp_path / "run")]
    assert sorted(ids) == sorted(f"c.jsonl:{i}" for i in range(23)) and len(ids) == 23
    assert (manifest["tasks"], manifest["shards"], manifest["documents"]) == (2, 5, 23)
    assert sorted(p.name for p in (tmp_path / "run" / "labelled").iterdir()) == ["00000.jsonl", "00001.jsonl"]


def test_judge_sees_truncated_text_but_the_row_keeps_it_whole(tmp_path: Path) -> None:
    long = "".join(f"Step {i}: wait, check this line again.\n" for i in range(300))
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", [{"text": long}, {"text": "wait short"}])))
    manifest = run_local(source, tmp_path / "run", judge=JudgeSettings("stand-in", truncate=64))
    rows = {r["id"]: r for r in labelled_rows(tmp_path / "run")}
    assert rows["c.jsonl:0"]["text"] == long and rows["c.jsonl:0"]["truncated"] is True
    assert 0 < rows["c.jsonl:0"]["backtracking_count"] < 300
    assert rows["c.jsonl:1"]["truncated"] is False and manifest["truncated"] == 1


def test_a_rerun_with_another_identity_is_refused_unless_overwrite(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(12))))
    out = tmp_path / "run"
    run_local(source, out, docs_per_shard=5)
    with pytest.raises(ClassifyError, match=r"truncate 100 \(was 0\)"):
        run_local(source, out, docs_per_shard=5, judge=JudgeSettings("stand-in", truncate=100))
    other = CorpusSource(str(write_jsonl(tmp_path / "d.jsonl", docs(3))))
    with pytest.raises(ClassifyError, match="source"):
        run_local(other, out, docs_per_shard=5)
    assert run_local(other, out, docs_per_shard=5, overwrite=True)["documents"] == 3
    assert len(labelled_rows(out)) == 3


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(2))))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    with pytest.raises(ClassifyError, match="holds no classify run"):
        run_local(source, tmp_path / "busy")


def test_a_failing_labeler_in_worker_processes_fails_the_run_in_one_line(tmp_path: Path) -> None:
    source = CorpusSource(str(write_jsonl(tmp_path / "c.jsonl", docs(6))))
    out = tmp_path / "run"
    with pytest.raises(ClassifyError, match=r"the run stopped \(LabelTaskError: CapError: cap 1.0 reached"):
        classify_corpus(source, out, judge=JudgeSettings("stand-in", truncate=0), docs_per_shard=3,
                        executor=ExecutorOptions(workers=2), labeler_factory=OverBudget)
    assert not (out / "manifest.json").exists() and not list((out / "logs" / "completions").glob("*"))
