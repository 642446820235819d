"""Publish a run or ablation as a Hub dataset: local repo layout, generated card and plot, then upload."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh import __version__
from cogbeh.behaviors import BEHAVIORS, DESCRIPTIONS, config_name
from cogbeh.formats import SPLITS_FILE, Split, read_assignment, write_records_parquet
from cogbeh.outfolder import FolderError, claim, confined, inside, mark, remove
from cogbeh.records import Record, read_records
from cogbeh.runfiles import MANIFEST, RECORDS, write_atomic
from cogbeh.templating import render

CARD_TEMPLATE = "card/dataset_card.md.jinja"
PLOT = "behavior_counts.png"
#: A run folder's dataset card (Hub convention: README.md with YAML `configs:` naming the data files).
RUN_CARD = "README.md"
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
#: A config name becomes folders (DIR/<name>/, data/<name>/): one plain path component, as cogbeh-gen names them.
_CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


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
    pr_url: str | None = None  # set when the upload opened a pull request (--create-pr)


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
    manifest = _read_manifest(manifest_path)
    if "conditions" in manifest:
        entries = manifest["conditions"]
        order = manifest.get("config_order") or sorted(entries)
        folders = {name: _config_folder(run_dir, name, entries, manifest_path) for name in order}
    else:
        name, entry = _run_entry(manifest)
        _config_folder(run_dir, name, {name: entry}, manifest_path)
        entries = {name: entry}
        order, folders = [name], {name: run_dir}
    configs = []
    for name in order:
        records_path = _confined(run_dir, folders[name] / RECORDS)
        _confined(run_dir, folders[name] / SPLITS_FILE)
        if not records_path.is_file():
            raise PublishError(f"{records_path} is missing; finish the run (e.g. with --resume) before publishing")
        try:
            records = list(read_records(records_path))
        except ValueError as err:  # a damaged line: its number and how to repair it, no traceback
            raise PublishError(f"{err}; repair or remove that line (or re-make the run) before publishing") from None
        if not records:
            raise PublishError(f"{records_path} holds no records; finish the run (e.g. with --resume) before "
                               "publishing")
        assignment = read_assignment(folders[name], records)
        configs.append(ConfigData(name, records, assignment, _what(entries[name]),
                                  _notes(entries[name], manifest.get("provider", "symbolic"))))
    return configs, manifest


def _config_folder(run_dir: Path, name: str, entries: dict[str, Any], manifest_path: Path) -> Path:
    """run_dir/<name> for a config named in the manifest: a plain name with an entry, inside run_dir."""
    if not isinstance(name, str) or not _CONFIG_NAME.fullmatch(name):
        raise PublishError(f"{manifest_path}: config name {name!r} is not a plain folder name (a damaged or crafted "
                           "manifest); re-make the run before publishing")
    if name not in entries:
        raise PublishError(f"{manifest_path}: 'config_order' names {name!r}, which 'conditions' lacks; re-make the "
                           "run before publishing")
    return _confined(run_dir, run_dir / name)


def _confined(base: Path, path: Path) -> Path:
    try:
        return confined(base, path)
    except FolderError as err:
        raise PublishError(str(err)) from None


def _read_manifest(path: Path) -> dict[str, Any]:
    """manifest.json, checked for the shape publish reads; a one-line PublishError when it is damaged."""
    fix = "re-make it (run the job or ablation again with --resume) before publishing"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as err:
        raise PublishError(f"{path} is not valid JSON ({err}); {fix}") from None
    if not isinstance(manifest, dict):
        raise PublishError(f"{path} is not a JSON object; {fix}")
    if "conditions" in manifest:
        entries, order = manifest["conditions"], manifest.get("config_order")
        if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
            raise PublishError(f"{path}: 'conditions' must map each config to its entry; {fix}")
        if order is not None and not (isinstance(order, list) and all(isinstance(n, str) for n in order)):
            raise PublishError(f"{path}: 'config_order' must be a list of config names; {fix}")
    elif not isinstance(manifest.get("condition"), str) or not isinstance(manifest.get("arguments", {}), dict):
        raise PublishError(f"{path} names no 'condition' (not a cogbeh-gen run or ablation manifest); {fix}")
    return manifest


def _run_entry(manifest: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A main-job run folder's config name and its entry (described like an ablation condition)."""
    arguments = manifest.get("arguments", {})
    name = manifest.get("control") or (
        config_name(manifest["condition"]) + ("_incorrect" if arguments.get("incorrect") else ""))
    return name, {**arguments, **_control_entry(manifest), "condition": manifest["condition"]}


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
        "run_folder": False,
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


def build_card(configs: list[ConfigData], manifest: dict[str, Any], repo_id: str, license: str | None, *,
               run_folder: bool = False) -> Any:
    """A huggingface_hub DatasetCard: YAML listing every config's data files, then the generated body.

    `run_folder`: the card of a run folder itself, whose only data file is records.jsonl (no plot beside it).
    """
    variables = card_variables(configs, manifest, repo_id, license)
    if run_folder:
        variables.update(plot=None, run_folder=True)
    files = [_run_folder_yaml(c) if run_folder else _config_yaml(c) for c in configs]
    metadata = {
        "license": license,
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": ["countdown", "reasoning", "cognitive-behaviors", "synthetic", "cogbeh-gen"],
        "pretty_name": variables["title"],
        "configs": files,
    }
    body = render(CARD_TEMPLATE, **variables)
    if run_folder:
        # Every run writes this card: PyYAML renders the same front matter without huggingface_hub's 0.25 s import.
        import yaml

        front = yaml.safe_dump({k: v for k, v in metadata.items() if v is not None}, sort_keys=False,
                               allow_unicode=True).rstrip("\n")
        return f"---\n{front}\n---\n\n{body}\n"
    from huggingface_hub import DatasetCard, DatasetCardData

    data = DatasetCardData(**metadata)
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n\n{body}\n")


def _config_yaml(config: ConfigData) -> dict[str, Any]:
    splits = [s for s in ("train", "test") if config.split(s)]  # type: ignore[arg-type]
    files = [{"split": s, "path": f"data/{config.name}/{s}-*.parquet"} for s in splits]
    return {"config_name": config.name, "data_files": files}


def _run_folder_yaml(config: ConfigData) -> dict[str, Any]:
    # Only records.jsonl: rejected.jsonl has another schema, and format outputs repeat the records.
    return {"config_name": config.name, "data_files": [{"split": "train", "path": RECORDS}]}


def run_card(manifest: dict[str, Any], records: list[Record]) -> str:
    """The README.md that makes a run folder load with `load_dataset(folder)` and `trl sft --dataset_name`."""
    name, entry = _run_entry(manifest)
    config = ConfigData(name, records, {r.problem_id: "train" for r in records}, _what(entry),
                        _notes(entry, manifest.get("provider", "symbolic")))
    return str(build_card([config], manifest, name, None, run_folder=True))


def write_run_card(folder: Path, manifest: dict[str, Any], records: list[Record]) -> None:
    """Write `folder`/README.md atomically, unless a README.md that cogbeh-gen did not write is there."""
    path = folder / RUN_CARD
    # Ours carry the `cogbeh-gen` tag in their YAML; a user's own README stays (load_dataset reads it).
    if path.is_file() and "\n- cogbeh-gen\n" not in path.read_text(encoding="utf-8", errors="replace"):
        return
    write_atomic(path, run_card(manifest, records))


def layout(run_dir: Path, folder: Path, repo_id: str, *, license: str | None = None) -> dict[str, dict[str, int]]:
    """Write the local Hub repo: data/<config>/<split>-00000-of-00001.parquet, README.md, the plot."""
    configs, manifest = load_configs(run_dir)
    data = {f"data/{c.name}/{split}-00000-of-00001.parquet": (c, split)
            for c in configs for split in ("train", "test") if c.split(split)}  # type: ignore[arg-type]
    planned = [*data, PLOT, "README.md"]
    try:
        earlier = claim(folder)  # publish touches only a new or empty folder, or one it made, and there only
        for name in planned:  # its own files; a link in the way is refused before anything changes
            inside(folder, name)
        mark(folder, [*earlier, *planned])  # first: a publish cut short still knows every file it wrote
        remove(folder, earlier)  # a re-publish replaces every file of the last one, and nothing else
    except FolderError as err:
        raise PublishError(str(err)) from None
    rows: dict[str, dict[str, int]] = {c.name: {} for c in configs}
    for name, (config, split) in data.items():
        chosen = config.split(split)  # type: ignore[arg-type]
        write_records_parquet(chosen, folder / name)
        rows[config.name][split] = len(chosen)
    plot_behavior_counts(configs, folder / PLOT)
    write_atomic(folder / "README.md", str(build_card(configs, manifest, repo_id, license)))
    mark(folder, planned)
    return rows


def publish(run_dir: Path, repo_id: str, *, private: bool = False, license: str | None = None,
            dry_run: bool = False, out_folder: Path | None = None, api: Any = None,
            revision: str | None = None, commit_message: str | None = None, create_pr: bool = False,
            token: str | None = None) -> PublishResult:
    """Lay out the repo locally and, unless `dry_run`, create the dataset repo and upload the folder.

    `revision`, `commit_message`, `create_pr` and `token` go to HfApi as given; without `token` HfApi finds
    HF_TOKEN or the login token itself. The token is handed to HfApi only: never printed, logged or written.
    """
    if not _REPO_ID.fullmatch(repo_id):
        raise PublishError(f"--repo-id must look like 'user/name', got {repo_id!r}")
    if token is not None and not token.strip():
        raise PublishError("--token is empty; pass a Hub token, or leave it out to use HF_TOKEN")
    folder = out_folder or run_dir / "hub"
    rows = _layout_any(run_dir, folder, repo_id, license)
    url = f"https://huggingface.co/datasets/{repo_id}" + (f"/tree/{revision}" if revision else "")
    if dry_run:
        return PublishResult(folder, rows, False, url)
    if api is None:
        from huggingface_hub import HfApi, get_token

        if token is None and get_token() is None:  # HfApi would fail later with a less helpful 401
            raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, or use --dry-run")
        api = HfApi()
    auth = {"token": token} if token is not None else {}  # absent: HfApi reads HF_TOKEN itself
    message = commit_message or f"Upload {len(rows)} config(s) with cogbeh-gen {__version__}"
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True, **auth)
        if revision is not None and not create_pr:  # upload_folder needs the branch to exist already
            api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True, **auth)
        info = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder),
                                 commit_message=message, revision=revision, create_pr=create_pr, **auth)
    except Exception as err:  # HTTP and auth errors from the Hub: one line, no traceback, no headers
        text = _redact(f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}", token)
        raise PublishError(f"upload to {repo_id} failed: {text}") from None
    return PublishResult(folder, rows, True, url, getattr(info, "pr_url", None))


def _layout_any(run_dir: Path, folder: Path, repo_id: str, license: str | None) -> dict[str, dict[str, int]]:
    """A priming run or ablation, or `curate rewrite` folders (a config per rewrite)."""
    from cogbeh.curate import publish as curated

    if not curated.rewrite_folders(run_dir):
        return layout(run_dir, folder, repo_id, license=license)
    try:
        return curated.layout(run_dir, folder, repo_id, license=license)
    except ValueError as err:
        raise PublishError(str(err)) from None


def _redact(text: str, token: str | None) -> str:
    """Hide any token an error message might quote: the one given, HF_TOKEN's, anything shaped like one."""
    for secret in (token, os.environ.get("HF_TOKEN")):
        if secret and secret.strip():
            text = text.replace(secret, "***")
    return re.sub(r"hf_[A-Za-z0-9]{8,}", "hf_***", text)
