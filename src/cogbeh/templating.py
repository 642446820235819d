"""One sandboxed Jinja environment for all prompt, trace, judge and card prose."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError

from cogbeh.paths import templates_dir


class TemplateError(ValueError):
    """A template is missing or refers to a variable it was not given."""


@lru_cache(maxsize=8)
def environment(root: str | None = None) -> Environment:
    """The shared environment; `root` overrides the shipped templates folder (e.g. --template-dir)."""
    folder = Path(root) if root else templates_dir()
    # Sandboxed when users point --template-dir at templates they did not write. The shipped templates are
    # ours and run unsandboxed: the sandbox vets every attribute read and call, which cost a third of the
    # main job's time. StrictUndefined either way, so a misspelt variable is an error, not an empty string.
    # The sandbox is bounded too (cogbeh.sandbox): Jinja's own lets `'a' * 10**10` take the machine.
    kind: type[Environment] = Environment
    if root:
        from cogbeh.sandbox import BoundedSandbox  # imported here: it imports TemplateError from this module

        kind = BoundedSandbox
    env = kind(
        loader=FileSystemLoader(str(folder)),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        auto_reload=False,  # templates do not change during a run; skipping the mtime check saves a stat per render
    )
    env.filters.update(join_and=join_and, capitalize_first=capitalize_first, lhs=lhs)
    return env


def join_and(items: object) -> str:
    """'25, 30, 3 and 4': how people list numbers in prose."""
    words = [str(item) for item in items]  # type: ignore[attr-defined]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def capitalize_first(text: str) -> str:
    """Upper-case the first character only (Jinja's `capitalize` lower-cases the rest)."""
    return text[:1].upper() + text[1:]


def lhs(equation: str) -> str:
    """The left-hand side of 'a op b = c'."""
    return equation.split("=", 1)[0].strip()


def render(name: str, *, root: str | None = None, **variables: object) -> str:
    """Render template `name` (relative to the templates folder) with `variables`."""
    env = environment(root)
    try:
        return env.get_template(name).render(**variables)
    except Exception as err:
        converted = template_error(err, name, root=root)
        if converted is None:
            raise
        raise converted from None


def template_error(err: BaseException, name: str, *, root: str | None = None) -> TemplateError | None:
    """A one-line TemplateError naming the template and line for an error raised while loading or rendering
    `name`; None when template code did not raise it (a bug of ours, worth its traceback)."""
    env = environment(root)
    if isinstance(err, TemplateError):
        return err
    if isinstance(err, TemplateNotFound):
        missing = err.name or name  # an {% include %} or {% import %} inside `name` may be what is missing
        where = "" if missing == name else f" (needed by {_where(err, name, env)})"
        return TemplateError(f"template {missing!r} not found under {_root(env)}{where}")
    if isinstance(err, TemplateSyntaxError):
        line = f", line {err.lineno}" if err.lineno else ""
        return TemplateError(f"template {err.name or name!r}{line}: {err.message}")
    if not isinstance(err, (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError,
                            AttributeError, RecursionError)):
        return None
    where = _where(err, name, env)
    if "line" not in where and not isinstance(err, jinja2.TemplateError):
        return None
    message = err.message if isinstance(err, jinja2.TemplateError) else f"{type(err).__name__}: {err}"
    return TemplateError(f"{where}: {' '.join(str(message).split())}")


def check_templates(root: str) -> None:
    """Compile every template under `root` (a --template-dir), so a syntax error stops a run before it starts."""
    env = environment(root)
    for path in sorted(Path(root).rglob("*.jinja")):
        name = path.relative_to(root).as_posix()
        try:
            env.get_template(name)
        except Exception as err:
            converted = template_error(err, name, root=root)
            if converted is None:
                raise
            raise converted from None


def _root(env: Environment) -> str:
    return str(env.loader.searchpath[0])  # type: ignore[union-attr]


def _where(err: BaseException, name: str, env: Environment) -> str:
    """'template NAME, line N' for the innermost template line in `err`'s traceback (else just the name).

    Jinja rewrites tracebacks so that frames of template code carry the template's file and line."""
    import traceback

    root = Path(_root(env)).resolve()
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        path = Path(frame.filename)
        if path.suffix == ".jinja" and path.resolve().is_relative_to(root):
            return f"template {path.resolve().relative_to(root).as_posix()!r}, line {frame.lineno}"
    return f"template {name!r}"


def template_source(name: str, *, root: str | None = None) -> str:
    """Raw source text of a template."""
    env = environment(root)
    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    return source


def templates_hash(names: list[str] | tuple[str, ...], *, root: str | None = None) -> str:
    """Short sha256 over the sources of `names` (sorted), for manifests and cache keys."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(template_source(name, root=root).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def directory_hash(subdir: str, *, root: str | None = None) -> str:
    """templates_hash over every template file under `subdir` (e.g. 'traces')."""
    base = Path(root) if root else templates_dir()
    names = [p.relative_to(base).as_posix() for p in (base / subdir).rglob("*.jinja") if p.is_file()]
    return templates_hash(names, root=root)
