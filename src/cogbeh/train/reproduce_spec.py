"""ReproduceSpec: a grid of priming conditions x base models run through ablation, SFT, RL and eval.

One YAML file in generators/reproduce/, validated with pydantic (extra keys forbidden). Paths inside it are
relative to the spec file, or to generators/ (e.g. `paper.yaml`, `train/grpo_paper.yaml`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cogbeh.spec import RunSpec, SpecError, _describe, load_spec, parse_spec, read_spec_file

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TinySizeName = Literal["tiny", "small", "0.5b"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """A base model: a local folder or Hub id (`path`), or a tiny random model built offline (`tiny`)."""

    name: str
    path: str | None = None
    tiny: TinySizeName | None = Field(None, description="build `cogbeh-gen train tiny-model --size` instead")
    params_b: float | None = Field(
        None, gt=0, description="parameters in billions, for the GPU-hours estimate"
    )

    @field_validator("name")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(
                f"model name {value!r} must be one plain folder name (letters, digits, '.', '_', '-')"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ModelSpec:
        if (self.path is None) == (self.tiny is None):
            raise ValueError(f"model {self.name!r} needs exactly one of 'path' or 'tiny'")
        return self


class SftSpec(_Strict):
    """Priming: a TRL SFTConfig YAML, LoRA or full fine-tuning, optional step cap."""

    config: str
    lora: bool = True
    max_steps: int | None = Field(None, ge=1)


class ProblemSource(_Strict):
    """Problems from FILE | HUB_ID[:CONFIG] | PRESET | tinyzero-test: `skip` rows, then `n`.

    Presets are sampled with `seed`; `tinyzero-test` is TinyZero's 1,024-row test split of the Hub set.
    """

    problems: str
    n: int | None = Field(None, ge=1)
    skip: int = Field(0, ge=0)
    seed: int = 1


class RlSpec(ProblemSource):
    """GRPO on Countdown: a TRL GRPOConfig YAML plus the problems."""

    config: str
    max_steps: int | None = Field(None, ge=1)
    lora: bool = False


class EvalSpec(ProblemSource):
    """Evaluation of the primed model (step 0) and every RL checkpoint."""

    n: int | None = Field(200, ge=1)
    seed: int = 2
    max_new_tokens: int = Field(1024, ge=1)
    batch_size: int = Field(16, ge=1)
    temperature: float = Field(1.0, ge=0)
    judge: str | None = Field(None, description="PROVIDER:MODEL: count behaviors with an LLM judge too")
    device: str = "auto"
    engine: Literal["auto", "vllm", "transformers"] = "auto"


class EstimateSpec(_Strict):
    """Assumptions for `--dry-run`'s GPU-hours figure (see cogbeh.train.reproduce.estimate)."""

    gpu: Literal["H100", "H200", "A100", "L40S", "A10G", "RTX4090"] = "H100"
    sft_tokens_per_row: int = Field(600, ge=1, description="prompt + trace tokens of one priming row")
    prompt_tokens: int = Field(120, ge=1, description="tokens of one RL / eval prompt")
    completion_fill: float = Field(0.5, gt=0, le=1, description="mean completion length / the maximum")


class ReproduceSpec(_Strict):
    """The grid: every condition in `conditions` primes every model in `models`; then RL and eval each."""

    name: str
    description: str | None = None
    ablation: str | dict[str, Any] = Field(description="ablation spec: a path, a shipped name, or inline")
    ablation_dir: str | None = Field(
        None, description="reuse (or make) the ablation here; default OUT/ablation"
    )
    conditions: list[str] = Field(min_length=1, description="config names of the ablation's conditions")
    models: list[ModelSpec] = Field(min_length=1)
    sft: SftSpec
    rl: RlSpec
    eval: EvalSpec
    prompt_style: Literal["tinyzero", "chat"] = "tinyzero"
    prompt_template: str | None = Field(
        None, description="a raw prompt template file used in place of the style's"
    )
    out: str | None = Field(None, description="output folder; default outputs/reproduce/<name>")
    estimate: EstimateSpec = Field(default_factory=EstimateSpec)

    @field_validator("name")
    @classmethod
    def _plain(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} must be one plain folder name (letters, digits, '.', '_', '-')")
        return value

    @model_validator(mode="after")
    def _unique(self) -> ReproduceSpec:
        for kind, names in (("condition", self.conditions), ("model", [m.name for m in self.models])):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{kind} {twice[0]!r} is listed twice")
        return self


class LoadedSpec(BaseModel):
    """A validated ReproduceSpec with its ablation spec loaded and its paths resolved."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: ReproduceSpec
    ablation: RunSpec
    origin: Path
    sft_config: Path
    rl_config: Path
    prompt_template: Path | None
    out: Path


def resolve(path: str, base: Path) -> Path:
    """`path` as given if it exists, else relative to the spec's folder, else to generators/."""
    from cogbeh.paths import generators_dir

    for candidate in (Path(path), base / path, generators_dir() / path):
        if candidate.exists():
            return candidate
    return base / path


def load_reproduce_spec(path: str | Path, *, out: Path | None = None) -> LoadedSpec:
    """Read and validate a reproduce spec; SpecError (one line) naming the file and the first problem."""
    file, data = read_spec_file(path, shipped="reproduce")
    if not isinstance(data, dict):
        raise SpecError(f"{file}: a reproduce spec must be a YAML mapping (name, ablation, conditions, ...)")
    try:
        spec = ReproduceSpec.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise SpecError(f"{file}: {_describe(errors[0])}{more}") from None
    return _link(spec, file, out)


def _link(spec: ReproduceSpec, file: Path, out: Path | None) -> LoadedSpec:
    """Load the ablation spec, check the conditions exist in it and the config files exist."""
    base = file.parent
    if isinstance(spec.ablation, dict):
        ablation = parse_spec(spec.ablation, origin=f"{file}: ablation")
    else:
        ablation = load_spec(
            resolve(spec.ablation, base) if not spec.ablation.isidentifier() else spec.ablation
        )
    known = [c.config for c in ablation.conditions]
    for condition in spec.conditions:
        if condition not in known:
            raise SpecError(
                f"{file}: conditions: {condition!r} is not a condition of ablation {ablation.name!r} "
                f"(have: {', '.join(known)})"
            )
    configs = {}
    for key, value in (("sft.config", spec.sft.config), ("rl.config", spec.rl.config)):
        configs[key] = resolve(value, base)
        if not configs[key].is_file():
            raise SpecError(
                f"{file}: {key}: no such file {value!r} (looked beside the spec and in generators/)"
            )
    template = resolve(spec.prompt_template, base) if spec.prompt_template else None
    if template is not None and not template.is_file():
        raise SpecError(f"{file}: prompt_template: no such file {spec.prompt_template!r}")
    folder = out or Path(spec.out or Path("outputs") / "reproduce" / spec.name)
    return LoadedSpec(
        spec=spec,
        ablation=ablation,
        origin=file,
        sft_config=configs["sft.config"],
        rl_config=configs["rl.config"],
        prompt_template=template,
        out=folder,
    )
