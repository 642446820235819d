"""Where the shipped templates and generator specs live, in a wheel or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _find(wheel_name: str, checkout_name: str) -> Path:
    # In a wheel, hatch force-includes the folder inside the package; in a checkout (editable install) it sits
    # two levels above src/cogbeh.
    bundled = _PACKAGE_DIR / wheel_name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent.parent / checkout_name


def templates_dir() -> Path:
    """Folder holding prompts/, traces/, judge/ and card/ Jinja templates."""
    return _find("_templates", "templates")


def generators_dir() -> Path:
    """Folder holding the shipped YAML run and ablation specs."""
    return _find("_generators", "generators")
