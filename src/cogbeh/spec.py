"""RunSpec: one YAML file in generators/ describing an ablation, validated with pydantic (extra keys forbidden)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cogbeh.behaviors import (
    MAX_BACKTRACKS,
    UnknownBehaviorError,
    canonical_condition,
    config_name,
    parse_condition,
)

Provider = Literal["symbolic", "anthropic", "openai"]
_CONFIG_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
#: A spec's name is the default folder outputs/<name>: one plain path component, never '..' or a '/'.
_SPEC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class SpecError(ValueError):
    """A spec file that cannot be read or does not validate; the message names the file."""


class ConditionSpec(BaseModel):
    """One condition: behaviors to generate (behavior, backtracks, incorrect) or a control derived from `source`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="config name on the Hub (snake_case); derived when omitted")
    behavior: str | None = None
    backtracks: int | tuple[int, int] | None = None
    incorrect: bool = False
    control: str | None = None
    source: str | None = Field(None, description="the condition (name or behavior set) a control is derived from")

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str | None) -> str | None:
        if value is not None and not _CONFIG_NAME.fullmatch(value):
            raise ValueError(f"name {value!r} must be snake_case: lower-case letters, digits and '_'")
        return value

    @field_validator("behavior")
    @classmethod
    def _known_behavior(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return canonical_condition(value)
        except UnknownBehaviorError as err:
            raise ValueError(str(err)) from None

    @field_validator("control")
    @classmethod
    def _known_control(cls, value: str | None) -> str | None:
        from cogbeh.controls import ControlError, canonical_control

        try:
            return None if value is None else canonical_control(value)
        except ControlError as err:
            raise ValueError(str(err)) from None

    @model_validator(mode="after")
    def _one_kind(self) -> ConditionSpec:
        if (self.behavior is None) == (self.control is None):
            raise ValueError("a condition needs exactly one of 'behavior' or 'control'")
        if self.control is not None:
            if self.source is None:
                raise ValueError(f"control {self.control!r} needs a 'source' condition to derive from")
            if self.backtracks is not None or self.incorrect:
                raise ValueError("'backtracks' and 'incorrect' belong to the source condition, not to a control")
            return self
        if self.source is not None:
            raise ValueError("'source' is only for controls")
        if self.backtracks is not None:
            low, high = self.backtrack_range or (0, 0)
            if "backtracking" not in parse_condition(self.behavior or "none"):
                raise ValueError(f"'backtracks' needs backtracking in the behavior (got {self.behavior!r})")
            if low < 1 or low > high:
                raise ValueError(f"'backtracks' must be >= 1 (or LOW <= HIGH); for 0 use behavior: none, got {low}")
            if high > MAX_BACKTRACKS:
                raise ValueError(f"'backtracks' is at most {MAX_BACKTRACKS} per trace, got {high}")
        return self

    @property
    def backtrack_range(self) -> tuple[int, int] | None:
        """`backtracks` as an inclusive (low, high) range."""
        if self.backtracks is None:
            return None
        return (self.backtracks, self.backtracks) if isinstance(self.backtracks, int) else self.backtracks

    @property
    def config(self) -> str:
        """The snake_case config name: `name`, else derived from the behavior set or control."""
        if self.name is not None:
            return self.name
        if self.control is not None:
            return self.control
        base = config_name(self.behavior or "none")
        if self.backtrack_range is not None:
            low, high = self.backtrack_range
            base += f"_k{low}" if low == high else f"_k{low}_{high}"
        return base + ("_incorrect" if self.incorrect else "")


class RunSpec(BaseModel):
    """An ablation: conditions run on one shared problem set and split identically."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the ablation's name; also its default folder, outputs/<name>")
    description: str | None = None
    seed: int = 0
    preset: Literal["paper", "tinyzero", "classic"] = "paper"
    n_train: int = Field(ge=1)
    n_test: int = Field(0, ge=0)
    provider: Provider = "symbolic"
    model: str | None = None
    formats: list[str] = Field(default_factory=lambda: ["parquet"])
    tokenizer: str | None = Field(
        None,
        description="for length_matched: tokenizer.json, folder, Hub id, or 'test' (the shipped test one)",
    )
    exclude: str | None = Field(None, description="problems file (JSONL, Parquet, dataset folder) never to use")
    conditions: list[ConditionSpec] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _one_path_component(cls, value: str) -> str:
        if not _SPEC_NAME.fullmatch(value):
            raise ValueError(f"{value!r} must be one plain folder name (letters, digits, '.', '_', '-'; no '/' "
                             "or '..'; at most 100 characters), e.g. backtrack-sweep")
        return value

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        from cogbeh.formats import FORMATS

        for fmt in value:
            if fmt not in FORMATS:
                raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        return value

    @model_validator(mode="after")
    def _names_and_sources(self) -> RunSpec:
        names = [c.config for c in self.conditions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"two conditions are both named {duplicates[0]!r}; give one a distinct 'name'")
        for condition in self.conditions:
            if condition.control is not None:
                self.source_of(condition)
        return self

    def source_of(self, condition: ConditionSpec) -> ConditionSpec:
        """The behavior condition a control derives from, matched by config name, then by behavior set."""
        wanted = condition.source or ""
        generated = [c for c in self.conditions if c.behavior is not None]
        matches = [c for c in generated if c.config == wanted]
        if not matches:
            try:
                canonical = canonical_condition(wanted)
            except UnknownBehaviorError:
                canonical = None
            matches = [c for c in generated if c.behavior == canonical and c.config == config_name(canonical)]
        if len(matches) != 1:
            valid = ", ".join(c.config for c in generated)
            raise ValueError(f"control {condition.config!r}: source {wanted!r} is not a behavior condition here "
                             f"(have: {valid})")
        return matches[0]


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {str(error['loc'][-1])!r}" + (f" at {where}" if len(error["loc"]) > 1 else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def parse_spec(data: Any, *, origin: str = "<spec>") -> RunSpec:
    """Validate a mapping as a RunSpec; SpecError naming `origin` and the first offending key."""
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: a spec must be a YAML mapping of keys (name, n_train, conditions, ...)")
    try:
        return RunSpec.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise SpecError(f"{origin}: {_describe(errors[0])}{more}") from None


def read_spec_file(path: str | Path, *, shipped: str = "") -> tuple[Path, Any]:
    """The YAML of a spec: a path, or the name of a spec shipped in generators/<shipped>; SpecError (one line)."""
    import yaml

    from cogbeh.paths import generators_dir

    file = Path(path)
    named = generators_dir() / shipped / f"{path}.yaml"
    if not file.is_file() and named.is_file():
        file = named
    try:
        return file, yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise SpecError(f"{path}: cannot read spec ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None


def load_spec(path: str | Path) -> RunSpec:
    """Read and validate a YAML spec: a path, or the name of a shipped spec in generators/ (e.g. 'paper')."""
    file, data = read_spec_file(path)
    return parse_spec(data, origin=str(file))
