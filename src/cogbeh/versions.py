"""Package versions recorded in every manifest, so a dataset says what made it."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from cogbeh import __version__

#: What every manifest records; callers add the packages their own step used.
CORE = ("jinja2", "pydantic", "numpy", "click")


def versions(*extra: str) -> dict[str, str]:
    """Python, cogbeh-gen and the installed versions of CORE plus `extra` ('missing' when not installed)."""
    found = {"python": platform.python_version(), "cogbeh-gen": __version__}
    for name in (*CORE, *extra):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found
