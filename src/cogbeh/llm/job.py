"""LLMJob: every option of a paid generation run, saved to the run folder so a later process can finish it."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from cogbeh.behaviors import condition_name
from cogbeh.countdown import Problem

JOB_FILE = "job.json"
Correctness = Literal["any", "correct", "incorrect"]


@dataclass(frozen=True)
class LLMJob:
    """What to generate, from which model, under which limits."""

    behaviors: frozenset[str]
    n: int
    out: Path
    provider: str
    model: str
    seed: int = 0
    preset: str = "paper"
    base_url: str | None = None
    temperature: float | None = None  # the paper used 0.5 with Claude 3.5 Sonnet
    max_tokens: int = 1024
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 120.0
    retries: int = 7  # retries after the first try
    retry_after_cap: float = 60.0
    backoff: float = 0.5  # first retry delay, doubled per retry
    max_attempts: int | None = None
    max_cost: float | None = None
    correctness: Correctness = "any"  # the paper kept correct and incorrect answers alike
    behavior_filter: bool = True
    template_dir: str | None = None
    prices: str | None = None
    cache: Path | None = None  # default: <out>/responses.jsonl
    batch: bool = False
    poll_interval: float = 30.0
    wait: bool = True  # batch mode: poll until results arrive, or submit and return
    resume: bool = False
    overwrite: bool = False
    problems: tuple[Problem, ...] | None = None

    @property
    def condition(self) -> str:
        """Canonical condition name."""
        return condition_name(self.behaviors)  # type: ignore[arg-type]

    @property
    def expect_correct(self) -> bool | None:
        """What `validate.assess` should demand of the answer."""
        return {"any": None, "correct": True, "incorrect": False}[self.correctness]

    def attempt_budget(self) -> int:
        """Candidate problems requested at most (rejections and failures included)."""
        return self.max_attempts if self.max_attempts is not None else 2 * self.n + 20

    def cache_path(self) -> Path:
        """Where paid responses are kept."""
        return self.cache if self.cache is not None else self.out / "responses.jsonl"

    def public(self) -> dict[str, Any]:
        """JSON-ready options for the manifest and job.json (no secrets: keys never enter a job)."""
        data = asdict(self)
        data["behaviors"] = sorted(self.behaviors)
        data["out"] = str(self.out)
        data["cache"] = str(self.cache) if self.cache is not None else None
        data["base_url"] = public_url(self.base_url)
        data["problems"] = [p.to_dict() for p in self.problems] if self.problems is not None else None
        return data


def public_url(url: str | None) -> str | None:
    """`url` without user:password or query (either may carry a credential)."""
    if not url:
        return url
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


#: Options that shape the records, as a --resume conflict names them: a resumed run must not silently mix in
#: records made under other values.
_SHAPING = {"provider": "--provider", "model": "--model", "behaviors": "--behavior", "seed": "--seed",
            "preset": "--preset", "temperature": "--temperature", "max_tokens": "--max-tokens",
            "correctness": "correctness (--require-correct/--incorrect)",
            "behavior_filter": "behavior_filter (--no-behavior-filter)", "template_dir": "--template-dir",
            "problems": "problem list"}


def check_resumable(job: LLMJob) -> None:
    """RunFolderError (a ValueError) naming every shaping option that differs from the folder's job.json."""
    from cogbeh.runfiles import read_job, resume_conflict

    saved = read_job(job.out) if job.resume else None
    if saved is None:
        return
    now = job.public()
    if saved.get("provider") != now["provider"]:  # another engine's folder: its other options mean nothing here
        raise resume_conflict(job.out, [("--provider", now["provider"], saved.get("provider"))])
    changes = []
    for name, option in _SHAPING.items():
        if name == "problems" and saved.get(name) and now[name] and now[name][: len(saved[name])] == saved[name]:
            continue  # an ablation extends its shared problem list between rounds: a longer list is fine
        if name in saved and saved[name] != now[name]:
            shown = (_problems(now[name]), _problems(saved[name])) if name == "problems" else (now[name], saved[name])
            changes.append((option, *shown))
    if changes:
        raise resume_conflict(job.out, changes)


def _problems(rows: list[dict[str, Any]] | None) -> str | None:
    from cogbeh.runfiles import json_digest

    digest = json_digest(rows)[:12]
    return None if rows is None else f"{len(rows)} problems, sha256 {digest}"


def save_job(job: LLMJob) -> None:
    """Write job.json atomically into the run folder."""
    from cogbeh.runfiles import write_atomic

    write_atomic(job.out / JOB_FILE, json.dumps(job.public(), indent=2, sort_keys=True) + "\n")


def load_job(folder: Path, **overrides: Any) -> LLMJob:
    """The job saved in `folder`, resumed, with `overrides` applied (e.g. wait=False, base_url=...)."""
    path = folder / JOB_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder} holds no {JOB_FILE}; is it an LLM run folder?")
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(LLMJob)}
    data = {k: v for k, v in data.items() if k in known}
    data["behaviors"] = frozenset(data["behaviors"])
    data["out"] = folder
    data["cache"] = Path(data["cache"]) if data.get("cache") else None
    if data.get("problems") is not None:
        data["problems"] = tuple(Problem(tuple(p["nums"]), p["target"]) for p in data["problems"])
    job = LLMJob(**data)
    return replace(job, resume=True, overwrite=False, **overrides)
