"""Publishing: a rehearsal folder that loads offline per config, a card with table and plot, an upload seam."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cogbeh.ablation import run_ablation
from cogbeh.cli.main import main
from cogbeh.formats import export
from cogbeh.hub import PLOT, PublishError, publish
from cogbeh.pipeline import JobConfig, run
from cogbeh.spec import parse_spec

SECRET = "hf_TESTTOKENthatMustNeverBeWritten123"
SPEC = {
    "name": "hub-small",
    "description": "A tiny ablation for publishing tests.",
    "n_train": 12,
    "n_test": 4,
    "tokenizer": "test",
    "conditions": [
        {"behavior": "none"},
        {"behavior": "backtracking+verification"},
        {"behavior": "all"},
        {"control": "empty_cot", "source": "all"},
        {"control": "length_matched", "source": "all"},
    ],
}
CONFIGS = ["none", "backtracking_verification", "all", "empty_cot", "length_matched"]


class RecordingApi:
    """Stands in for HfApi: records the operations it is handed and what the folder held at upload time."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        if self.fail:
            raise RuntimeError("401 Client Error: Unauthorized for url: https://huggingface.co/api/repos/create")
        return f"https://huggingface.co/datasets/{repo_id}"

    def upload_folder(self, **kwargs: Any) -> None:
        files = sorted(p.relative_to(kwargs["folder_path"]).as_posix()
                       for p in Path(kwargs["folder_path"]).rglob("*") if p.is_file())
        self.calls.append(("upload_folder", {**kwargs, "files": files}))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ablation")
    run_ablation(parse_spec(SPEC), out=out)
    return out


@pytest.fixture(scope="module")
def rehearsal(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("repo")
    result = publish(run_dir, "me/priming", dry_run=True, out_folder=folder)
    assert not result.uploaded and result.folder == folder
    return folder


def test_rehearsal_folder_loads_offline_for_every_config(rehearsal: Path) -> None:
    import datasets

    for config in CONFIGS:
        assert (rehearsal / "data" / config / "train-00000-of-00001.parquet").is_file()
        loaded = datasets.load_dataset(str(rehearsal), config)
        assert {split: len(rows) for split, rows in loaded.items()} == {"train": 12, "test": 4}
        train, test = set(loaded["train"]["problem_id"]), set(loaded["test"]["problem_id"])
        assert not train & test


def test_card_lists_every_config_and_shows_table_plot_and_citation(rehearsal: Path) -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(rehearsal / "README.md")
    assert [c["config_name"] for c in card.data.configs] == CONFIGS
    assert card.data.configs[0]["data_files"][0] == {"split": "train", "path": "data/none/train-*.parquet"}
    assert "| config | backtracking | backward_chaining | subgoal_setting | verification | correct |" in card.text
    assert "| `empty_cot` | 0.00 | 0.00 | 0.00 | 0.00 |" in card.text
    assert f"]({PLOT})" in card.text and (rehearsal / PLOT).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "arXiv:2503.01307" in card.text and "@article{" in card.text
    assert "Provider: `symbolic`" in card.text and "Template hashes: `query`" in card.text
    assert "same 16 problems" in card.text


def test_no_license_is_invented(rehearsal: Path, run_dir: Path, tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(rehearsal / "README.md")
    assert card.data.license is None and "No license was chosen" in card.text
    publish(run_dir, "me/priming", license="cc-by-4.0", dry_run=True, out_folder=tmp_path)
    licensed = DatasetCard.load(tmp_path / "README.md")
    assert licensed.data.license == "cc-by-4.0" and "`cc-by-4.0`" in licensed.text


def test_upload_hands_exact_operations_to_the_api_and_never_writes_the_token(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    api = RecordingApi()
    result = publish(run_dir, "me/priming", private=True, out_folder=tmp_path / "repo", api=api)
    assert result.uploaded and result.url == "https://huggingface.co/datasets/me/priming"
    (create, create_args), (upload, upload_args) = api.calls
    assert (create, create_args) == ("create_repo", {"repo_id": "me/priming", "repo_type": "dataset",
                                                     "private": True, "exist_ok": True})
    assert upload == "upload_folder"
    assert {k: upload_args[k] for k in ("repo_id", "repo_type", "folder_path")} == {
        "repo_id": "me/priming", "repo_type": "dataset", "folder_path": str(tmp_path / "repo")}
    assert "README.md" in upload_args["files"] and PLOT in upload_args["files"]
    assert "data/all/test-00000-of-00001.parquet" in upload_args["files"]
    assert "token" not in create_args and "token" not in upload_args  # HfApi finds it itself
    for path in [*run_dir.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


def test_upload_errors_are_one_line_without_the_token(run_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with pytest.raises(PublishError, match="upload to me/priming failed: RuntimeError: 401") as caught:
        publish(run_dir, "me/priming", out_folder=tmp_path, api=RecordingApi(fail=True))
    assert SECRET not in str(caught.value) and "\n" not in str(caught.value)


def test_missing_token_is_reported_before_any_network(run_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(PublishError, match="no Hugging Face token"):
        publish(run_dir, "me/priming", out_folder=tmp_path)


def test_bad_inputs_are_refused(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="must look like 'user/name'"):
        publish(run_dir, "priming", dry_run=True, out_folder=tmp_path)
    with pytest.raises(PublishError, match="no manifest.json"):
        publish(tmp_path, "me/priming", dry_run=True, out_folder=tmp_path / "repo")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("keep me")
    with pytest.raises(PublishError, match="not a dataset folder written by publish"):
        publish(run_dir, "me/priming", dry_run=True, out_folder=tmp_path / "theirs")


def test_a_single_main_job_run_publishes_as_one_config(tmp_path: Path) -> None:
    import datasets

    result = run(JobConfig(behaviors=frozenset({"backtracking"}), n=10, out=tmp_path / "run"))
    export(result.folder, result.records, ["parquet"], test_size=3)
    published = publish(result.folder, "me/one", dry_run=True, out_folder=tmp_path / "repo")
    assert published.rows == {"backtracking": {"train": 7, "test": 3}}
    loaded = datasets.load_dataset(str(tmp_path / "repo"), "backtracking")
    assert len(loaded["test"]) == 3


def test_cli_dry_run(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["publish", str(run_dir), "--repo-id", "me/priming", "--dry-run", "--out", str(tmp_path / "y")])
    assert done.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(tmp_path / "y")
    assert "dry run: nothing uploaded" in captured.err and "no --license given" in captured.err
    with pytest.raises(SystemExit) as done:
        main(["publish", str(run_dir), "--repo-id", "nope", "--dry-run", "--out", str(tmp_path / "z")])
    assert done.value.code == 2 and "user/name" in capsys.readouterr().err


def test_a_main_job_control_run_publishes_under_the_control_name(tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    from cogbeh.ablation import derive_run

    source = run(JobConfig(behaviors=frozenset({"backtracking"}), n=8, out=tmp_path / "run"))
    manifest = derive_run(source.folder, "dots", tmp_path / "dots", tokenizer="test")
    assert manifest["control"] == "length_matched" and manifest["control_stats"]["match_rate"] == 1.0
    published = publish(tmp_path / "dots", "me/one", dry_run=True, out_folder=tmp_path / "repo")
    assert published.rows == {"length_matched": {"train": 8}}
    card = DatasetCard.load(tmp_path / "repo" / "README.md")
    assert "(from `backtracking`)" in card.text and "verified by re-tokenising" in card.text
    assert "tokenizer `test` (the small test tokenizer shipped with cogbeh-gen" in card.text
