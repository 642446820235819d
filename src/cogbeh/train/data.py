"""Training data: priming rows (TRL conversational prompt-completion) and RL problem sets with their prompts.

Sources are a run folder (records.jsonl), a local HF dataset folder, or a Hub id `user/name[:config]`; RL
problems may also be a problem file or a preset name. `datasets` is imported inside functions only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cogbeh.countdown import PRESETS, Problem, load_problems, problems_from_dataset, sample_problems
from cogbeh.prompting import (
    PROMPT_STYLES,
    SHIPPED,
    PromptFormat,
    PromptStyle,
    build_prompt,
    question_row,
    sft_row,
)
from cogbeh.records import Record, read_records

RL_TEMPLATE = SHIPPED["tinyzero"]
QUERY_TEMPLATE = SHIPPED["chat"]
__all__ = ["PROMPT_STYLES", "PromptFormat", "PromptStyle"]  # re-exported: the styles live in cogbeh.prompting


#: Columns of a `curate rewrite` row: its query is rebuilt from the question in the run's prompt format.
QUESTION_COLUMNS: tuple[str, ...] = ("question", "thoughts", "answer")


class DataError(ValueError):
    """A data source that cannot be read or does not have the columns training needs."""


@dataclass(frozen=True)
class PrimingData:
    """Conversational rows ready for SFTTrainer, and the problems they were written for."""

    rows: list[dict[str, Any]]
    problems: list[Problem]
    source: str


def to_conversational(
    record: Record | dict[str, Any], *, style: PromptStyle | PromptFormat = "tinyzero"
) -> dict[str, Any]:
    """A TRL prompt-completion row plus `nums`, `target` in the run's prompt format (cogbeh.prompting.sft_row).

    The prompt is rebuilt from the problem, so SFT, RL, eval and veRL share one prompt text; the completion
    is the record's (a dataset row's text, or its assistant messages joined).
    """
    if isinstance(record, Record):
        return sft_row(list(record.nums), record.target, record.completion, style)
    row = dict(record)
    if all(isinstance(row.get(k), str) for k in QUESTION_COLUMNS):  # a rewritten corpus document (curate)
        return question_row(row["question"], row["thoughts"], row["answer"], style)
    prompt, completion = row.get("prompt"), row.get("completion")
    if isinstance(completion, list):
        completion = "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    if not isinstance(prompt, (str, list)) or not isinstance(completion, str):
        raise DataError("a priming row needs 'prompt' and 'completion' (text or message lists)")
    if "nums" not in row or "target" not in row:
        raise DataError("a priming row needs 'nums' and 'target' columns")
    return sft_row(list(row["nums"]), int(row["target"]), completion, style)


def split_hub_id(text: str) -> tuple[str, str | None]:
    """'user/name:config' -> ('user/name', 'config'); no colon -> (text, None)."""
    repo, _, config = text.partition(":")
    return repo, config or None


def _load_dataset(source: str, *, split: str = "train") -> Any:
    """One split of a local HF dataset folder or a Hub dataset `repo[:config]`, as a `datasets.Dataset`."""
    import datasets

    path = Path(source)
    try:
        if path.is_dir() and ((path / "dataset_dict.json").exists() or (path / "dataset_info.json").exists()):
            loaded = datasets.load_from_disk(str(path))
        else:
            repo, config = (str(path), None) if path.is_dir() else split_hub_id(source)
            loaded = datasets.load_dataset(repo, config)
    except Exception as err:  # datasets raises many unrelated types for a bad id, folder or config
        raise DataError(f"cannot load dataset {source!r}: {' '.join(str(err).split())[:300]}") from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise DataError(f"dataset {source!r} has no split {split!r} (has {', '.join(loaded)})")
        loaded = loaded[split]
    return loaded


def _read_priming_file(path: Path) -> list[Record | dict[str, Any]]:
    """Records of a priming run, or the plain rows of a `curate rewrite` folder (which are not Records)."""
    import json

    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    try:
        curated = all(k in json.loads(first) for k in QUESTION_COLUMNS) if first else False
    except json.JSONDecodeError:
        curated = False
    if not curated:
        return list(read_records(path))
    from cogbeh.runfiles import json_rows

    return [row for _, row in json_rows(path)]


def load_priming(
    source: str | Path, *, split: str = "train", style: PromptStyle | PromptFormat = "tinyzero"
) -> PrimingData:
    """Priming rows from a run folder with records.jsonl, a local dataset folder, or `HUB_ID[:CONFIG]`."""
    path = Path(source)
    try:
        if path.is_dir() and (path / "records.jsonl").is_file():
            raw: Iterable[Record | dict[str, Any]] = _read_priming_file(path / "records.jsonl")
        elif path.is_file() and path.suffix == ".jsonl":
            raw = _read_priming_file(path)
        else:
            raw = _load_dataset(str(source), split=split).to_list()
        rows = [to_conversational(r, style=style) for r in raw]
        # Countdown problems (kept apart from RL problems); rewritten documents have none.
        problems = [Problem(tuple(r["nums"]), r["target"]) for r in rows if "nums" in r]
    except DataError:
        raise
    except ValueError as err:  # a corrupt record line or an impossible problem
        raise DataError(f"{source}: {err}") from None
    if not rows:
        raise DataError(f"{source}: no priming rows")
    return PrimingData(rows=rows, problems=problems, source=str(source))


def load_rl_problems(
    source: str, *, n: int | None = None, seed: int = 0, split: str = "train"
) -> list[Problem]:
    """RL problems from a file or folder, a preset name (sampled with `seed`), or a Hub id `repo[:config]`."""
    if source in PRESETS:
        return sample_problems(n if n is not None else 1024, preset=source, seed=seed)
    path = Path(source)
    if path.exists():
        try:
            problems = load_problems(path, split=split)
        except ValueError as err:
            raise DataError(str(err)) from None
    else:
        dataset = _load_dataset(source, split=split)
        if (
            n is not None
        ):  # the RL sets are large (Countdown-Tasks-3to4: 490k rows); convert only what is used
            dataset = dataset.select(range(min(n, len(dataset))))
        try:
            problems = problems_from_dataset(dataset)
        except ValueError as err:
            raise DataError(f"{source}: {err}") from None
    if not problems:
        raise DataError(f"{source}: no problems")
    return problems[:n] if n is not None else problems


def rl_prompt(
    problem: Problem, *, style: PromptStyle | PromptFormat = "tinyzero"
) -> str | list[dict[str, str]]:
    """The prompt for `problem` (every stage uses this): TinyZero-style text, or one user message."""
    if not isinstance(style, PromptFormat) and style not in PROMPT_STYLES:
        raise DataError(f"unknown prompt style {style!r}; choose one of {', '.join(PROMPT_STYLES)}")
    return build_prompt(problem, style)


def rl_rows(
    problems: Sequence[Problem], *, style: PromptStyle | PromptFormat = "tinyzero"
) -> list[dict[str, Any]]:
    """GRPO rows: `prompt` plus the `nums` and `target` columns the reward reads."""
    return [{"prompt": rl_prompt(p, style=style), "nums": list(p.nums), "target": p.target} for p in problems]


def overlap(rl: Iterable[Problem], priming: Iterable[Problem]) -> list[str]:
    """Problem ids present in both sets (same numbers in any order, same target), sorted."""
    return sorted({p.id for p in rl} & {p.id for p in priming})
