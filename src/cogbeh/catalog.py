"""What cogbeh-gen offers and where it runs: the registries for `list`, the environment for `env`."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

from cogbeh import __version__
from cogbeh.behaviors import BEHAVIORS, DESCRIPTIONS, PAPER_ALIASES, condition_name
from cogbeh.paths import generators_dir, templates_dir

#: Sections of `cogbeh-gen list`, in the order printed.
SECTIONS: tuple[str, ...] = ("behaviors", "aliases", "controls", "presets", "formats", "specs")
#: Packages whose versions a bug report needs: the core, the providers' SDKs, the train and curate extras.
KEY_PACKAGES: tuple[str, ...] = (
    "click", "pydantic", "jinja2", "numpy", "tokenizers", "datasets", "pyarrow", "huggingface_hub",
    "anthropic", "openai", "httpx2", "matplotlib", "torch", "transformers", "trl", "peft", "accelerate",
    "datatrove", "math-verify", "fasttext-numpy2-wheel", "rapidfuzz",
)
#: Environment variables that change what cogbeh-gen, the Hub libraries or torch do; values are shown.
SETTINGS: tuple[str, ...] = (
    "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HF_HUB_CACHE",
    "HF_DATASETS_CACHE", "HF_ENDPOINT", "CUDA_VISIBLE_DEVICES", "TOKENIZERS_PARALLELISM", "OMP_NUM_THREADS",
)
#: Environment variables holding credentials: only whether they are set is ever shown.
SECRETS: tuple[str, ...] = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "WANDB_API_KEY")


def catalog() -> dict[str, Any]:
    """Every name the options accept, read from the registries themselves, plus the shipped specs."""
    from cogbeh.controls import ALIASES, CONTROLS
    from cogbeh.countdown import PRESETS
    from cogbeh.formats import FORMAT_HELP, FORMATS

    return {
        "behaviors": {b: DESCRIPTIONS[b] for b in BEHAVIORS},
        "aliases": {alias: condition_name(behaviors) for alias, behaviors in PAPER_ALIASES.items()},
        "controls": {name: {"description": control.description,
                            "aliases": sorted(a for a, target in ALIASES.items() if target == name)}
                     for name, control in CONTROLS.items()},
        "presets": {name: _preset_line(preset) for name, preset in PRESETS.items()},
        "formats": {name: FORMAT_HELP.get(name, "") for name in FORMATS},
        "specs": shipped_specs(),
    }


def _preset_line(preset: Any) -> str:
    sizes = " or ".join(str(size) for size in preset.sizes)
    tiles = (f"{sizes} tiles from a {len(preset.bag)}-tile bag" if preset.bag
             else f"{sizes} numbers in {preset.num_range[0]}-{preset.num_range[1]}")
    return f"{tiles}, target {preset.target_range[0]}-{preset.target_range[1]}, {preset.rules} arithmetic"


def shipped_specs() -> dict[str, dict[str, str]]:
    """The YAML specs under generators/ (ablations) and generators/train/ (trainer configs), by file name."""
    import yaml

    found: dict[str, dict[str, str]] = {}
    root = generators_dir()
    for path in sorted(root.glob("*.yaml")) + sorted(root.glob("train/*.yaml")):
        kind = "train config" if path.parent.name == "train" else "ablation"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):  # a checkout's edited spec must not break the listing
            data = None
        about = data.get("description", "") if isinstance(data, dict) else "(not readable as YAML)"
        found[path.relative_to(root).with_suffix("").as_posix()] = {"kind": kind, "path": str(path),
                                                                     "description": about}
    return found


def environment() -> dict[str, Any]:
    """Versions, platform, cores, torch/CUDA and the settings that matter; secrets only as set/unset."""
    from cogbeh.llm.types import BASE_URL_ENV, KEY_ENV
    from cogbeh.versions import versions

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    settings = {name: _shown(os.environ.get(name)) for name in (*SETTINGS, *BASE_URL_ENV.values())}
    return {
        "cogbeh-gen": __version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()}) {sys.executable}",
        "platform": platform.platform(),
        "cpus": f"{os.cpu_count()} ({cores} usable)",
        "templates": str(templates_dir()),
        "generators": str(generators_dir()),
        "packages": {k: v for k, v in versions(*KEY_PACKAGES).items() if k not in ("python", "cogbeh-gen")},
        "torch": _torch(),
        "settings": settings,
        "secrets": {name: "set" if os.environ.get(name, "").strip() else "unset"
                    for name in (*SECRETS, *KEY_ENV.values())},
    }


def _shown(value: str | None) -> str:
    """A setting as shown: URLs lose any user:password@ and query string (they can carry credentials)."""
    if value is None:
        return "unset"
    if "://" not in value:
        return value
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(value)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "") if "@" in parts.netloc else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _torch() -> dict[str, Any] | str:
    """torch's version and CUDA devices, when the train extra is installed."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return "not installed (pip install 'cogbeh-gen[train]')"
    try:
        import torch

        cuda = torch.cuda.is_available()
        count = torch.cuda.device_count() if cuda else 0
        return {
            "version": torch.__version__,
            "cuda_build": torch.version.cuda or "none (CPU build)",
            "cuda_available": cuda,
            "devices": [torch.cuda.get_device_name(i) for i in range(count)],
        }
    except Exception as err:  # a broken install is itself worth reporting, not a crash of `env`
        return f"import failed: {type(err).__name__}: {err}"
