"""Publish a run or ablation as a Hub dataset: local repo layout, generated card and plot, then upload."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh import __version__
from cogbeh.behaviors import BEHAVIORS, DESCRIPTIONS, config_name
from cogbeh.formats import Split, read_assignment, write_records_parquet
from cogbeh.records import Record, read_records
from cogbeh.runfiles import MANIFEST, RECORDS, write_atomic
from cogbeh.templating import render

CARD_TEMPLATE = "card/dataset_card.md.jinja"
PLOT = "behavior_counts.png"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


class PublishError(ValueError):
    """The run folder, repo id or destination cannot be published as asked."""


@dataclass(frozen=True)
class ConfigData:
    """One Hub config: its records, the split of each problem, and what to say about it."""

    name: str
    records: list[Record]
    assignment: dict[str, Split]
    what: str
    notes: str | None = None

    def split(self, name: Split) -> list[Record]:
        """The records of split `name`, in record order."""
        return [r for r in self.records if self.assignment[r.problem_id] == name]


@dataclass(frozen=True)
class PublishResult:
    """What publish wrote and whether it went to the Hub."""

    folder: Path
    rows: dict[str, dict[str, int]]
    uploaded: bool
    url: str


def _what(entry: dict[str, Any]) -> str:
    if entry.get("control"):
        return f"control: {entry['control_description']} (from `{entry['source']}`)"
    condition = entry.get("condition") or entry.get("behavior") or "none"
    shown = "all four behaviors" if condition == "all" else condition.replace("+", " + ")
    text = "direct solutions, no behaviors" if condition == "none" else f"traces showing {shown}"
    if entry.get("backtracks"):
        low, high = entry["backtracks"]
        text += f", exactly {low} backtrack(s)" if low == high else f", {low}-{high} backtracks"
    return text + (", ending on a wrong answer" if entry.get("incorrect") else "")


def _notes(entry: dict[str, Any], provider: str) -> str | None:
    stats = entry.get("control_stats") or {}
    if entry.get("control") == "length_matched":
        test = (
            " (the small test tokenizer shipped with cogbeh-gen, not a model's)"
            if stats.get("test_tokenizer")
            else ""
        )
        return (f"placeholder {stats.get('placeholder')!r} repeated to each think block's token count under "
                f"tokenizer `{stats.get('tokenizer')}`{test}; counts matched for "
                f"{100 * stats.get('match_rate', 0):.1f}% of records (verified by re-tokenising).")
    if entry.get("control") == "incorrect_only" and provider == "symbolic":
        return "the source's structure generated with a wrong final answer, on the same problems."
    return None


def load_configs(run_dir: Path) -> tuple[list[ConfigData], dict[str, Any]]:
    """The configs of an ablation folder (manifest with conditions) or of a single main-job run folder."""
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        raise PublishError(f"{run_dir}: no {MANIFEST}; publish a folder made by `cogbeh-gen` or `cogbeh-gen ablation`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if "conditions" in manifest:
        entries = manifest["conditions"]
        order = manifest.get("config_order") or sorted(entries)
        folders = {name: run_dir / name for name in order}
    else:
        arguments = manifest.get("arguments", {})
        name = manifest.get("control") or (
            config_name(manifest["condition"]) + ("_incorrect" if arguments.get("incorrect") else ""))
        entries = {name: {**arguments, **_control_entry(manifest), "condition": manifest["condition"]}}
        order, folders = [name], {name: run_dir}
    configs = []
    for name in order:
        records_path = folders[name] / RECORDS
        if not records_path.is_file():
            raise PublishError(f"{records_path} is missing; finish the run (e.g. with --resume) before publishing")
        records = list(read_records(records_path))
        assignment = read_assignment(folders[name], records)
        configs.append(ConfigData(name, records, assignment, _what(entries[name]),
                                  _notes(entries[name], manifest.get("provider", "symbolic"))))
    return configs, manifest


def _control_entry(manifest: dict[str, Any]) -> dict[str, Any]:
    """A main-job run made with --control: describe it like an ablation's control entry."""
    from cogbeh.controls import CONTROLS

    control = manifest.get("control")
    if control not in CONTROLS:
        return {}
    return {"control": control, "control_description": CONTROLS[control].description,
            "source": config_name(manifest["condition"]), "control_stats": manifest.get("control_stats", {})}


def plot_behavior_counts(configs: list[ConfigData], path: Path) -> None:
    """A grouped bar chart of mean behavior counts per config (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    width = 0.8 / len(BEHAVIORS)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.1 * len(configs) + 2), 4), dpi=100)
    for offset, behavior in enumerate(BEHAVIORS):
        means = [_means(c.records)[behavior] for c in configs]
        axes.bar([i + (offset - 1.5) * width for i in range(len(configs))], means, width, label=behavior)
    axes.set_xticks(range(len(configs)), [c.name for c in configs], rotation=30, ha="right")
    axes.set_ylabel("mean count per record")
    axes.set_title("Behavior counts per config (rule classifier)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})  # no version stamp: stable bytes
    plt.close(figure)


def card_variables(configs: list[ConfigData], manifest: dict[str, Any], repo_id: str,
                   license: str | None) -> dict[str, Any]:
    """Everything the card template shows."""
    spec = manifest.get("spec") or {}
    hashes = _template_hashes(manifest)
    problem_sets = {frozenset(r.problem_id for r in c.records) for c in configs}
    return {
        "title": spec.get("name") or repo_id.split("/")[-1],
        "description": spec.get("description") or "Countdown priming traces with chosen cognitive behaviors.",
        "repo_id": repo_id,
        "package_version": __version__,
        "configs": [_config_row(c) for c in configs],
        "behaviors": list(BEHAVIORS),
        "descriptions": DESCRIPTIONS,
        "shared_problems": len(configs) > 1 and len(problem_sets) == 1,
        "problem_count": len(configs[0].records),
        "seed": manifest.get("seed", 0),
        "preset": spec.get("preset") or manifest.get("arguments", {}).get("preset", "paper"),
        "provider": manifest.get("provider", "symbolic"),
        "model": manifest.get("model"),
        "template_hashes": hashes,
        "versions": manifest.get("versions", {"cogbeh-gen": __version__}),
        "license": license,
        "plot": PLOT,
    }


def _means(records: list[Record]) -> dict[str, float]:
    # stats.summarise also measures n-gram variety, which is slow and not shown here.
    return {b: sum(r.behavior_counts.get(b, 0) for r in records) / (len(records) or 1) for b in BEHAVIORS}


def _config_row(config: ConfigData) -> dict[str, Any]:
    correct = sum(r.correct for r in config.records) / (len(config.records) or 1)
    return {"name": config.name, "what": config.what, "notes": config.notes, "train": len(config.split("train")),
            "test": len(config.split("test")), "means": _means(config.records), "correct_rate": correct}


def _template_hashes(manifest: dict[str, Any]) -> dict[str, str]:
    if "template_hashes" in manifest:
        return dict(manifest["template_hashes"])
    for entry in manifest.get("conditions", {}).values():
        found = (entry.get("generation") or {}).get("template_hashes")
        if found:
            return dict(found)
    return {}


def build_card(configs: list[ConfigData], manifest: dict[str, Any], repo_id: str, license: str | None) -> Any:
    """A huggingface_hub DatasetCard: YAML listing every config's data files, then the generated body."""
    from huggingface_hub import DatasetCard, DatasetCardData

    variables = card_variables(configs, manifest, repo_id, license)
    data = DatasetCardData(
        license=license,
        language=["en"],
        task_categories=["text-generation"],
        tags=["countdown", "reasoning", "cognitive-behaviors", "synthetic", "cogbeh-gen"],
        pretty_name=variables["title"],
        configs=[_config_yaml(c) for c in configs],
    )
    body = render(CARD_TEMPLATE, **variables)
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}\n")


def _config_yaml(config: ConfigData) -> dict[str, Any]:
    splits = [s for s in ("train", "test") if config.split(s)]  # type: ignore[arg-type]
    files = [{"split": s, "path": f"data/{config.name}/{s}-*.parquet"} for s in splits]
    return {"config_name": config.name, "data_files": files}


def layout(run_dir: Path, folder: Path, repo_id: str, *, license: str | None = None) -> dict[str, dict[str, int]]:
    """Write the local Hub repo: data/<config>/<split>-00000-of-00001.parquet, README.md, the plot."""
    configs, manifest = load_configs(run_dir)
    if folder.exists() and any(folder.iterdir()) and not (folder / "README.md").is_file():
        raise PublishError(f"{folder} is not empty and is not a dataset folder written by publish; choose another --out")
    shutil.rmtree(folder / "data", ignore_errors=True)  # a re-publish replaces every data file
    rows: dict[str, dict[str, int]] = {}
    for config in configs:
        rows[config.name] = {}
        for split in ("train", "test"):
            chosen = config.split(split)  # type: ignore[arg-type]
            if chosen:
                write_records_parquet(chosen, folder / "data" / config.name / f"{split}-00000-of-00001.parquet")
                rows[config.name][split] = len(chosen)
    plot_behavior_counts(configs, folder / PLOT)
    write_atomic(folder / "README.md", str(build_card(configs, manifest, repo_id, license)))
    return rows


def publish(run_dir: Path, repo_id: str, *, private: bool = False, license: str | None = None,
            dry_run: bool = False, out_folder: Path | None = None, api: Any = None) -> PublishResult:
    """Lay out the repo locally and, unless `dry_run`, create the dataset repo and upload the folder."""
    if not _REPO_ID.fullmatch(repo_id):
        raise PublishError(f"--repo-id must look like 'user/name', got {repo_id!r}")
    folder = out_folder or run_dir / "hub"
    rows = layout(run_dir, folder, repo_id, license=license)
    url = f"https://huggingface.co/datasets/{repo_id}"
    if dry_run:
        return PublishResult(folder, rows, False, url)
    if api is None:
        from huggingface_hub import HfApi, get_token

        if get_token() is None:  # HfApi would fail later with a less helpful 401
            raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, or use --dry-run")
        api = HfApi()  # reads the token itself; it never passes through our code or messages
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder),
                          commit_message=f"Upload {len(rows)} config(s) with cogbeh-gen {__version__}")
    except Exception as err:  # HTTP and auth errors from the Hub: one line, no traceback, no headers
        raise PublishError(f"upload to {repo_id} failed: {type(err).__name__}: {str(err).splitlines()[0]}") from None
    return PublishResult(folder, rows, True, url)
