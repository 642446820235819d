"""Filters, globals and joins for the bounded sandbox: the ones that can multiply their input are sized first."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import filters as jinja_filters
from jinja2 import pass_environment, pass_eval_context

from cogbeh.sandbox.limits import (
    MAX_OUTPUT,
    MAX_RANGE,
    LimitError,
    as_int,
    check_printf,
    check_replace,
    fits,
    made,
    size_of,
    spend,
)

#: The filter the sandbox wraps around every {% for %} iterable so that iterations are counted.
LOOP_FILTER = "_cogbeh_loop"

# Filters that can make far more than they are given, each sized before the filter runs.


def _center(value: Any, width: int = 80) -> str:
    fits(as_int(width), f"center({width})")
    return jinja_filters.do_center(value, width)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text, pad = str(s), len(width) if isinstance(width, str) else as_int(width)
    fits(len(text) + (text.count("\n") + 1) * pad, f"indent({pad})")
    return jinja_filters.do_indent(s, width, first, blank)


@pass_environment
def _wordwrap(environment: Any, s: Any, width: int = 79, break_long_words: bool = True,
              wrapstring: str | None = None, break_on_hyphens: bool = True) -> str:
    text = str(s)
    separator = environment.newline_sequence if wrapstring is None else str(wrapstring)
    fits(len(text) + (len(text) + 1) * len(separator), "wordwrap")  # at worst a break after every character
    return jinja_filters.do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_printf(str(value), kwargs or args)
    return jinja_filters.do_format(value, *args, **kwargs)


@pass_eval_context
def _replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    check_replace(str(s), str(old), str(new), count)
    return jinja_filters.do_replace(eval_ctx, s, old, new, count)


@pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    fits(sum(size_of(item) for item in items) + len(str(d)) * len(items), "join")
    return jinja_filters.do_join(eval_ctx, items, d, attribute)


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    fits(as_int(linecount), f"batch({linecount})")
    return jinja_filters.do_batch(value, linecount, fill_with)


@pass_eval_context
def _slice(eval_ctx: Any, value: Any, slices: int, fill_with: Any = None) -> Any:
    if as_int(slices) > MAX_RANGE:
        raise LimitError(f"slice({slices}) is over the limit of {MAX_RANGE:,} slices")
    return jinja_filters.do_slice(eval_ctx, value, slices, fill_with)


@pass_eval_context
def _tojson(eval_ctx: Any, value: Any, indent: Any = None) -> Any:
    if indent:
        fits(size_of(value) * (1 + (len(indent) if isinstance(indent, str) else as_int(indent))), "tojson(indent)")
    return jinja_filters.do_tojson(eval_ctx, value, indent)


@pass_environment
def _sum(environment: Any, iterable: Iterable[Any], attribute: Any = None, start: Any = 0) -> Any:
    items = list(iterable)
    if attribute is not None:
        items = list(map(jinja_filters.make_attrgetter(environment, attribute), items))
    if not isinstance(start, (list, tuple)):
        return jinja_filters.do_sum(environment, items, start=start)
    # n lists summed one by one make n ever longer copies; make the one result in a single pass instead.
    for item in items:
        if type(item) is not type(start):
            kind = type(start).__name__
            raise TypeError(f'can only concatenate {kind} (not "{type(item).__name__}") to {kind}')
    fits(size_of(start) + sum(size_of(item) for item in items), "sum")
    return type(start)(itertools.chain(start, *items))


def bounded_range(*args: int) -> range:
    """range() for templates, refused past MAX_RANGE items."""
    values = range(*args)
    try:
        count = len(values)
    except OverflowError:
        count = MAX_RANGE + 1
    if count > MAX_RANGE:
        shown = ", ".join(map(str, args))
        raise LimitError(f"range({shown}) has over {MAX_RANGE:,} items, the limit in templates")
    return values


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        spend()
        yield item


def finalize(value: Any) -> Any:
    """Every {{ value }} printed: sized before it is turned into text (a list of big strings would not be)."""
    fits(size_of(value), "an output value")
    return value


def bounded_concat(parts: Iterable[str]) -> str:
    """The output of a render, a macro or a block, stopped as soon as it passes MAX_OUTPUT."""
    pieces, total = [], 0
    for piece in parts:
        total += len(piece)
        if total > MAX_OUTPUT:
            raise LimitError(f"the output passes {MAX_OUTPUT:,} characters, the limit in templates")
        pieces.append(piece)
    spend(total)
    return "".join(pieces)


GUARDED: dict[str, Callable[..., Any]] = {
    "center": _center, "indent": _indent, "wordwrap": _wordwrap, "format": _format, "replace": _replace,
    "join": _join, "batch": _batch, "slice": _slice, "tojson": _tojson, "sum": _sum, LOOP_FILTER: _loop,
}


def _charged(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` as a filter that refuses oversized arguments and results and counts against the budget."""
    if getattr(func, "cogbeh_charged", False):
        return func

    @functools.wraps(func)  # keeps jinja_pass_arg, so Jinja still passes the context or environment
    def charged(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            fits(size_of(value), f"the input of |{name}")
        spend()
        return made(func(*args, **kwargs), f"|{name}")

    charged.cogbeh_charged = True  # type: ignore[attr-defined]
    return charged


class ChargedFilters(dict):  # type: ignore[type-arg]
    """The filter table: every filter added, now or later (templating adds its own), is charged."""

    def __setitem__(self, name: str, func: Callable[..., Any]) -> None:
        super().__setitem__(name, _charged(name, func))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for name, func in dict(*args, **kwargs).items():
            self[name] = func


