"""The researcher's workflow commands: --preview, inspect, ablation progress, output paths, publish flags."""

from __future__ import annotations

import json
import re
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cogbeh.ablation import run_ablation
from cogbeh.classify import count_behaviors
from cogbeh.cli.main import main
from cogbeh.controls import apply_control
from cogbeh.pipeline import JobConfig, run
from cogbeh.spec import parse_spec
from cogbeh.stats import length_stats

SECRET = "hf_WORKFLOWtokenThatMustNeverBeShown987"
SPEC: dict[str, Any] = {
    "name": "workflow-small",
    "n_train": 6,
    "n_test": 2,
    "conditions": [
        {"behavior": "none"},
        {"behavior": "backtracking+verification"},
        {"control": "empty_cot", "source": "backtracking+verification"},
    ],
}
CONFIGS = ["none", "backtracking_verification", "empty_cot"]


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `cogbeh-gen ARGS` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(args)
    captured = capsys.readouterr()
    return done.value.code, captured.out, captured.err


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def ablation_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ablation")
    run_ablation(parse_spec(SPEC), out=out)
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["cogbeh-gen"])
        with pytest.raises(SystemExit) as done:
            main(
                [
                    "-b",
                    "backtracking+verification",
                    "-n",
                    "24",
                    "--out",
                    str(out),
                    "-q",
                    "--format",
                    "parquet",
                    "--format",
                    "dataset",
                    "--format",
                    "trl",
                    "--format",
                    "verl",
                    "--test-size",
                    "6",
                ]
            )
    assert done.value.code == 0
    return out


# --preview -----------------------------------------------------------------------------------------


def test_preview_prints_the_runs_first_records_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["-b", "backtracking+verification", "--preview", "3", "--seed", "4"], capsys)
    assert code == 0, err
    assert list(tmp_path.iterdir()) == []  # no outputs/ folder, no run folder
    expected = run(
        JobConfig(
            behaviors=frozenset({"backtracking", "verification"}),
            n=3,
            seed=4,
            out=tmp_path.parent / f"{tmp_path.name}-check",
        )
    ).records
    for number, record in enumerate(expected, start=1):
        assert f"record {number}/3  {record.id}" in out
        assert record.prompt in out and record.completion in out
    assert out.count("--- prompt") == 3 and out.count("--- completion") == 3
    assert "preview: 3 record(s)" in err and "nothing written" in err


def test_preview_with_n_out_and_a_control_still_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(
        [
            "-b",
            "backtracking",
            "-n",
            "500",
            "--out",
            "big",
            "--control",
            "empty_cot",
            "--format",
            "parquet",
            "--preview",
            "2",
            "-q",
        ],
        capsys,
    )
    assert code == 0 and list(tmp_path.iterdir()) == []
    source = run(
        JobConfig(behaviors=frozenset({"backtracking"}), n=2, out=tmp_path.parent / "src-check")
    ).records
    derived, _ = apply_control("empty_cot", source)
    assert all(r.completion in out for r in derived) and not any(r.completion in out for r in source)


def test_preview_for_an_llm_provider_prints_k_prompts_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # no key: nothing could be sent
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9")
    code, out, err = cli(
        ["-b", "all", "--provider", "openai", "--model", "gpt-4o-mini", "--preview", "2"], capsys
    )
    assert code == 0, err
    assert "## user prompt 1" in out and "## user prompt 2" in out and "## user prompt 3" not in out
    assert "## system prompt" in out and "cost estimate" in out
    assert list(tmp_path.iterdir()) == []


def test_preview_refuses_bad_counts_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["-b", "backtracking", "--preview", "0"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--preview" in err
    code, _, err = cli(["--preview", "2", "-n", "3"], capsys)
    assert code == 2 and "--behavior is required" in err and "Traceback" not in err


# the main job's summary names its outputs ----------------------------------------------------------


def test_summary_lists_the_paths_of_control_and_format_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    code, stdout, err = cli(
        [
            "-b",
            "backtracking",
            "-n",
            "20",
            "--out",
            str(out),
            "--control",
            "empty_cot",
            "--format",
            "parquet",
            "--format",
            "dataset",
            "--test-size",
            "4",
        ],
        capsys,
    )
    assert code == 0, err
    rows = [tuple(re.split(r"\s{2,}", line, maxsplit=1)) for line in err.strip().splitlines()[-6:]]
    control = out / "empty_cot"
    assert rows == [
        ("run records", str(out / "records.jsonl")),
        ("control", str(control / "records.jsonl")),
        ("format parquet", str(control / "parquet" / "train.parquet")),
        ("format parquet", str(control / "parquet" / "test.parquet")),
        ("format dataset", str(control / "dataset")),
        ("splits", str(control / "splits.json")),
    ]
    assert all(Path(value).exists() for _, value in rows)
    first = err.splitlines()[0]  # "condition          backtracking": the summary's value column
    column = len(first) - len("backtracking")
    assert all(
        line.index(value) == column for line, (_, value) in zip(err.splitlines()[-6:], rows, strict=True)
    )
    assert stdout.strip() == str(out / "empty_cot" / "records.jsonl")
    code, _, quiet = cli(["-b", "backtracking", "-n", "5", "--out", str(tmp_path / "q"), "-q"], capsys)
    assert code == 0 and quiet == ""


# ablation progress ---------------------------------------------------------------------------------


def _spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "name": "progress"}))
    return path


def test_ablation_shows_a_bar_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec_file(tmp_path)
    code, _, err = cli(["ablation", str(spec), "--out", str(tmp_path / "pipe")], capsys)
    assert code == 0 and "\r" not in err and "ablation:" not in err  # stderr is not a terminal: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = cli(["ablation", str(spec), "--out", str(tmp_path / "tty")], capsys)
    assert code == 0 and "\rablation:" in err and "generating none" in err and "writing empty_cot" in err
    # A step per generated condition, then one per condition written (each step's label redraws the bar).
    assert "1/5 [" in err and "generating backtracking_verification" in err and "4/5 [" in err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = cli(["ablation", str(spec), "--out", str(tmp_path / "quiet"), "-q"], capsys)
    assert code == 0 and "ablation:" not in err and "generating:" not in err


# publish flags -------------------------------------------------------------------------------------


class RecordingApi:
    """Stands in for HfApi: records how it was made and every operation it is handed."""

    instances: list[RecordingApi] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.made_with = (args, kwargs)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: str | None = None
        RecordingApi.instances.append(self)

    def create_repo(self, repo_id: str, **kwargs: Any) -> str:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        if self.fail_with:
            raise RuntimeError(self.fail_with)
        return f"https://huggingface.co/datasets/{repo_id}"

    def create_branch(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_branch", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", kwargs))
        pr = "https://huggingface.co/datasets/me/priming/discussions/7" if kwargs.get("create_pr") else None
        return type("CommitInfo", (), {"pr_url": pr})()


@pytest.fixture
def hf_api(monkeypatch: pytest.MonkeyPatch) -> type[RecordingApi]:
    import huggingface_hub

    RecordingApi.instances = []
    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return RecordingApi


def _no_secret_anywhere(text: str, *folders: Path) -> None:
    assert SECRET not in text
    for path in files_under(*folders):
        assert SECRET.encode() not in path.read_bytes(), path


def publish(
    source: Path, out: Path, *flags: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """`cogbeh-gen publish SOURCE --repo-id me/priming --out OUT FLAGS...`: (exit status, stdout, stderr)."""
    return cli(["publish", str(source), "--repo-id", "me/priming", "--out", str(out), *flags], capsys)


def test_publish_passes_revision_message_token_and_pr_to_hfapi(
    ablation_dir: Path, tmp_path: Path, hf_api: type[RecordingApi], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    code, out, err = publish(
        ablation_dir, repo, "--revision", "v2", "--commit-message", "Add the v2 traces", "--token", SECRET,
        "--create-pr", capsys=capsys,
    )
    assert code == 0, err
    (api,) = hf_api.instances
    assert api.made_with == ((), {})  # the token goes to the calls, not into an object we keep
    assert api.calls == [
        (
            "create_repo",
            {
                "repo_id": "me/priming",
                "repo_type": "dataset",
                "private": False,
                "exist_ok": True,
                "token": SECRET,
            },
        ),
        (
            "upload_folder",
            {
                "repo_id": "me/priming",
                "repo_type": "dataset",
                "folder_path": str(repo),
                "commit_message": "Add the v2 traces",
                "revision": "v2",
                "create_pr": True,
                "token": SECRET,
            },
        ),
    ]
    assert (
        "opened a pull request with 3 config(s): https://huggingface.co/datasets/me/priming/discussions/7"
        in err
    )
    _no_secret_anywhere(out + err, ablation_dir, repo)


def test_publish_to_a_new_branch_creates_it_first(
    ablation_dir: Path, tmp_path: Path, hf_api: type[RecordingApi], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    code, _, err = publish(ablation_dir, repo, "--revision", "v2", "--token", SECRET, capsys=capsys)
    assert code == 0, err
    (api,) = hf_api.instances
    assert [name for name, _ in api.calls] == ["create_repo", "create_branch", "upload_folder"]
    assert api.calls[1] == (
        "create_branch",
        {"repo_id": "me/priming", "repo_type": "dataset", "branch": "v2", "exist_ok": True, "token": SECRET},
    )
    assert api.calls[2][1]["revision"] == "v2" and api.calls[2][1]["create_pr"] is False
    assert api.calls[2][1]["commit_message"].startswith("Upload 3 config(s) with cogbeh-gen")
    assert "uploaded 3 config(s) to https://huggingface.co/datasets/me/priming/tree/v2" in err


def test_publish_with_hf_token_leaves_the_token_to_hfapi(
    ablation_dir: Path,
    tmp_path: Path,
    hf_api: type[RecordingApi],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    repo = tmp_path / "repo"
    code, out, err = publish(ablation_dir, repo, capsys=capsys)
    assert code == 0, err
    (api,) = hf_api.instances
    assert api.made_with == ((), {})
    assert api.calls[0] == (
        "create_repo",
        {"repo_id": "me/priming", "repo_type": "dataset", "private": False, "exist_ok": True},
    )
    assert all("token" not in kwargs for _, kwargs in api.calls)  # HfApi reads HF_TOKEN itself
    _no_secret_anywhere(out + err, ablation_dir, repo)


def test_publish_errors_never_show_the_token(
    ablation_dir: Path,
    tmp_path: Path,
    hf_api: type[RecordingApi],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = RecordingApi.__init__

    def failing(self: RecordingApi, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.fail_with = (
            f"401 Unauthorized: token {SECRET} is invalid\nheaders: Authorization: Bearer {SECRET}"
        )

    monkeypatch.setattr(RecordingApi, "__init__", failing)
    code, out, err = publish(ablation_dir, tmp_path / "r", "--token", SECRET, capsys=capsys)
    assert code == 2 and err.count("\n") == 1
    assert "upload to me/priming failed: RuntimeError: 401 Unauthorized: token *** is invalid" in err
    _no_secret_anywhere(out + err, ablation_dir, tmp_path)
    code, _, err = publish(ablation_dir, tmp_path / "e", "--token", " ", capsys=capsys)
    assert code == 2 and "--token is empty" in err


# inspect -------------------------------------------------------------------------------------------


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _inspect_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = cli(["inspect", *args, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_inspect_a_run_folder_counts_behaviors_with_the_rule_classifier(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records(run_dir / "records.jsonl")
    figures = _inspect_json([str(run_dir)], capsys)
    assert figures["kind"] == "run folder" and figures["records"] == 24
    assert figures["splits"] == {"train": 18, "test": 6}
    assert figures["correct_rate"] == 1.0 and "`correct` field" in figures["correct_from"]
    counted = [count_behaviors(r["completion"]) for r in records]
    for behavior, row in figures["behaviors"]["behaviors"].items():
        assert row["total"] == sum(c[behavior] for c in counted)
    lengths = length_stats([r["completion"] for r in records])
    assert figures["length_chars"] == lengths["length_chars"]
    assert figures["length_tokens"] == lengths["length_tokens"]
    assert list(figures["groups"]) == ["backtracking+verification"]
    code, text, _ = cli(["inspect", str(run_dir)], capsys)
    assert code == 0
    for expected in (
        "records           24 (train 18, test 6)",
        "correct           100.0%",
        "length            median",
        "condition x behavior",
        "backtracking+verification",
    ):
        assert expected in text


@pytest.mark.parametrize(
    "relative", ["records.jsonl", "parquet/train.parquet", "dataset", "trl/test.parquet"]
)
def test_inspect_reads_every_file_and_folder_kind(
    run_dir: Path, relative: str, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = _inspect_json([str(run_dir / relative)], capsys)
    expected = {"records.jsonl": 24, "parquet/train.parquet": 18, "dataset": 24, "trl/test.parquet": 6}[
        relative
    ]
    assert figures["records"] == expected and figures["correct_rate"] == 1.0
    if relative.startswith("trl"):  # TRL rows have no `correct`: the answers are checked against nums/target
        assert figures["correct_from"] == "answers checked against nums/target"
        assert list(figures["groups"]) == ["(no condition)"]
    assert figures["behaviors"]["behaviors"]["verification"]["share"] == 1.0


def test_inspect_an_ablation_and_its_hub_folder_per_config(
    ablation_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = _inspect_json([str(ablation_dir)], capsys)
    assert figures["kind"] == "ablation folder" and list(figures["groups"]) == CONFIGS
    assert figures["groups"]["empty_cot"]["records"] == 8
    assert figures["behaviors"]["conditions"]["empty_cot"]["behaviors"]["verification"]["total"] == 0
    code, _, err = cli(
        ["publish", str(ablation_dir), "--repo-id", "me/x", "--dry-run", "--out", str(tmp_path / "hub")],
        capsys,
    )
    assert code == 0, err
    hub = _inspect_json([str(tmp_path / "hub")], capsys)  # read with datasets.load_dataset, as from the Hub
    assert hub["kind"] == "dataset folder" and hub["records"] == figures["records"]
    assert hub["behaviors"] == figures["behaviors"] and hub["splits"] == figures["splits"]
    one = _inspect_json([f"{tmp_path / 'hub'}:none", "--split", "test"], capsys)
    assert one["records"] == 2 and list(one["groups"]) == ["none"]


def test_inspect_writes_a_png_plot(
    run_dir: Path, ablation_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "figs" / "ablation.png"
    figures = _inspect_json([str(ablation_dir), "--plot", str(plot)], capsys)
    header = plot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and figures["plot"] == str(plot)
    width, height = struct.unpack(">II", header[16:24])
    assert width >= 800 and height >= 800  # two full-width panels, stacked
    code, _, err = cli(["inspect", str(run_dir), "--plot", str(tmp_path / "x.svg")], capsys)
    assert code == 2 and "PNG" in err and not (tmp_path / "x.svg").exists()


def test_inspect_bad_sources_are_one_line_errors(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jsonl"
    lines = (run_dir / "records.jsonl").read_text().splitlines()
    broken.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "notes.txt").write_text("hello")
    cases = {
        str(tmp_path / "missing.jsonl"): "no such file or folder",
        str(broken): "broken.jsonl:2: not JSON",
        str(tmp_path / "empty.jsonl"): "no records",
        str(tmp_path / "notes.txt"): "not a .jsonl or .parquet file",
        str(run_dir / "verl" / "train.parquet"): "no 'completion'",
        # HF_HUB_OFFLINE=1 (tests/conftest.py): a Hub id fails at once, without the network.
        "nobody/no-such-dataset": "cannot load dataset 'nobody/no-such-dataset'",
    }
    for source, message in cases.items():
        code, out, err = cli(["inspect", source], capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, (source, err)
        assert err.startswith("cogbeh-gen: error: ") and message in err, (source, err)
    code, _, err = cli(["inspect", str(run_dir), "--split", "validation"], capsys)
    assert code == 2 and "no records in split 'validation'" in err
