"""The ceilings of the bounded sandbox, the per-render budget, and the checks that size a result before it is made."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.sandbox import SecurityError

#: Characters (or items) in any one value a template makes: 'a' * n, center(n), a joined list. Traces and
#: prompts are a few thousand characters; a megabyte leaves room for any real template and none for an attack.
MAX_SIZE = 1_000_000
#: Characters one render may output.
MAX_OUTPUT = 1_000_000
#: Bits in any integer a template computes (about 1,200 decimal digits): 10 ** 1000000000 never starts.
MAX_INT_BITS = 4096
#: Items range() may produce (Jinja's own sandbox limit).
MAX_RANGE = 100_000
#: Loop iterations, calls, filters and operators in one render: a shipped trace takes under 1,000, and 100,000
#: take about 0.2 s, so a runaway loop or recursion stops within a second.
MAX_STEPS = 100_000
#: Characters made in one render, summed over every operation (a shipped trace makes under 20,000): bounds
#: memory and time together where single values stay under MAX_SIZE.
MAX_WORK = 10_000_000
#: The widest width or precision in a format spec ('%10d', '{:>10}').
MAX_FIELD = 10_000
SEQUENCES = (str, bytes, list, tuple)


class LimitError(SecurityError):
    """A template went past one of the limits above (reported as one line naming the template and line)."""


@dataclass
class _Budget:
    steps: int = 0
    made: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("cogbeh_template_budget", default=None)


@contextmanager
def budgeted() -> Iterator[None]:
    """A fresh budget for a render or module, unless one is already running (an include or import inside it)."""
    if _BUDGET.get() is not None:
        yield
        return
    token = _BUDGET.set(_Budget())
    try:
        yield
    finally:
        _BUDGET.reset(token)


def spend(made: int = 0) -> None:
    """Count one step (and `made` characters) against the running render's budget."""
    budget = _BUDGET.get()
    if budget is None:  # compile-time constant folding: only the per-value limits apply
        return
    budget.steps += 1
    budget.made += made
    if budget.steps > MAX_STEPS:
        raise LimitError(f"more than {MAX_STEPS:,} loop iterations, calls and operations in one render")
    if budget.made > MAX_WORK:
        raise LimitError(f"more than {MAX_WORK:,} characters made in one render")


def size_of(value: object, limit: int = MAX_SIZE) -> int:
    """Characters or items in `value`, nested lists, tuples, sets and dicts included; stops counting past `limit`."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, bool) or not isinstance(item, (int, list, tuple, set, frozenset, dict)):
            total += 1
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1  # about its decimal digits, as it would print
        else:
            total += len(item)
            if total <= limit:
                stack.extend(item.items() if isinstance(item, dict) else item)
    return total


def fits(size: int, what: str) -> None:
    """Refuse a value of `size` before `what` makes it."""
    if size > MAX_SIZE:
        raise LimitError(f"{what} would make {size:,} characters or items; templates are limited to {MAX_SIZE:,}")


def made(value: Any, what: str) -> Any:
    """`value`, once `what` has made it: sized, and charged to the budget."""
    size = size_of(value)
    fits(size, what)
    spend(size)
    return value


def as_int(value: object) -> int:
    """`value` if it is an integer (not a bool), else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, a result past MAX_SIZE or MAX_INT_BITS."""
    if operator == "**" and as_int(left) and as_int(right) > 0 and abs(left) > 1:
        bits = right * math.log2(abs(left))
        if bits > MAX_INT_BITS:
            raise LimitError(f"'**' would make a number of about {bits:,.0f} bits; templates are limited to "
                             f"{MAX_INT_BITS:,}")
    elif operator == "*":
        if isinstance(left, int) and isinstance(right, SEQUENCES):
            left, right = right, left
        if isinstance(left, SEQUENCES) and isinstance(right, int):
            fits(size_of(left) * max(right, 0), "'*'")
        elif as_int(left) and as_int(right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitError(f"'*' would make a number of over {MAX_INT_BITS:,} bits")
    elif operator == "+" and isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        fits(size_of(left) + size_of(right), "'+'")
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right)


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)


def _field(number: str | None) -> int:
    if number == "*":
        raise LimitError("a '*' width in a %-format is not allowed in templates; write the width out")
    if number and (len(number) > 6 or int(number) > MAX_FIELD):
        raise LimitError(f"a format width or precision of {number} is over the limit of {MAX_FIELD:,}")
    return int(number or 0)


def check_printf(fmt: str, args: Any) -> None:
    """'%10s' % x: the format's fields times the largest argument, plus its widths, must fit."""
    fields = [m for m in _PRINTF.finditer(fmt) if m.group(3) != "%"]
    widths = sum(max(_field(m.group(1)), _field(m.group(2))) for m in fields)
    values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    largest = max((size_of(value) for value in values), default=0)
    fits(len(fmt) + widths + len(fields) * largest, "'%' formatting")


def check_format(fmt: str, values: Iterable[Any]) -> None:
    """'{:>10}'.format(x): as for '%', and no nested '{}' in a spec (its width would be unknown here)."""
    fields = widths = 0
    for _, name, spec, _ in string.Formatter().parse(fmt):
        if name is None:
            continue
        if spec and "{" in spec:
            raise LimitError("a nested '{}' in a format spec is not allowed in templates; write the width out")
        fields += 1
        widths += sum(_field(number) for number in re.findall(r"\d+", spec or ""))
    largest = max((size_of(value) for value in values), default=0)
    fits(len(fmt) + widths + fields * largest, "str.format")


def check_replace(text: Any, old: Any, new: Any, count: Any) -> None:
    """text.replace(old, new, count): every hit grows the text by len(new) - len(old)."""
    hits = text.count(old) if old else len(text) + 1
    if as_int(count) > 0:
        hits = min(hits, count)
    fits(len(text) + hits * max(len(new) - len(old), 0), "replace")


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: int = 0) -> int:
    return as_int(args[index] if len(args) > index else kwargs.get(name, default))


def _longest(table: Any) -> int:
    values = table.values() if isinstance(table, dict) else table if isinstance(table, (list, tuple)) else None
    if values is None:
        raise LimitError("str.translate takes a dict or list table in templates")
    return max((size_of(value) for value in values), default=1)


def guard_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Size the str/bytes/int methods that can multiply their input before calling them."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, (str, bytes)):
        if name in ("center", "ljust", "rjust", "zfill"):
            fits(_arg(args, kwargs, 0, "width"), f"{name}()")
        elif name == "expandtabs":
            tab = "\t" if isinstance(owner, str) else b"\t"
            fits(len(owner) + owner.count(tab) * _arg(args, kwargs, 0, "tabsize", 8), "expandtabs()")  # type: ignore[arg-type]
        elif name == "replace" and len(args) >= 2:
            check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"))
        elif name == "join" and args:
            items = list(args[0])
            fits(sum(size_of(item) for item in items) + len(owner) * len(items), "join()")
            return (items, *args[1:])
        elif name == "translate" and args and isinstance(owner, str):
            fits(len(owner) * _longest(args[0]), "translate()")
    elif isinstance(owner, int) and name == "to_bytes":
        fits(_arg(args, kwargs, 0, "length", 1), "to_bytes()")
    return args


