"""Canonical arithmetic expressions.

A sum is a flat list of added terms and subtracted terms, a product a flat list of multiplied factors and
dividing factors, each list ordered by value (largest first). So `a + (b - c)`, `(a - c) + b` and `b - (c - a)`
are one expression, `a + b - c`. Printing puts added terms before subtracted ones (and factors before
divisors), so reading the text left to right never passes through a negative or fractional intermediate that
the original tree avoided: the printed form is valid under the same rules as any tree it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

from cogbeh.countdown.rules import Op, Value, apply


@dataclass(frozen=True)
class Expr:
    """An expression node; `text` is its canonical printed form and doubles as its identity."""

    op: str  # "n" for a number, "+" for a signed sum, "*" for a product with divisors
    plus: tuple[Expr, ...]  # added terms (sum) or multiplied factors (product)
    minus: tuple[Expr, ...]  # subtracted terms (sum) or divisors (product)
    value: Value
    text: str

    def numbers(self) -> list[int]:
        """The literals used, in printed order."""
        if self.op == "n":
            return [int(self.value)]
        return [n for arg in (*self.plus, *self.minus) for n in arg.numbers()]


def leaf(number: int) -> Expr:
    """A single number."""
    return Expr("n", (), (), number, str(number))


def _order(terms: list[Expr]) -> tuple[Expr, ...]:
    return tuple(sorted(terms, key=lambda e: (-e.value, e.text)))


def _parts(expr: Expr, kind: str) -> tuple[tuple[Expr, ...], tuple[Expr, ...]]:
    return (expr.plus, expr.minus) if expr.op == kind else ((expr,), ())


def combine(op: Op, a: Expr, b: Expr) -> Expr:
    """`a op b` in canonical form (the caller guarantees the operation is legal under its rules)."""
    kind = "+" if op in "+-" else "*"
    a_plus, a_minus = _parts(a, kind)
    b_plus, b_minus = _parts(b, kind)
    if op in "+*":
        plus, minus = [*a_plus, *b_plus], [*a_minus, *b_minus]
    else:
        plus, minus = [*a_plus, *b_minus], [*a_minus, *b_plus]
    plus_t, minus_t = _order(plus), _order(minus)
    return Expr(kind, plus_t, minus_t, apply(op, a.value, b.value, "standard"), _print(kind, plus_t, minus_t))


def _print(kind: str, plus: tuple[Expr, ...], minus: tuple[Expr, ...]) -> str:
    if kind == "+":  # terms are numbers or products, which bind tighter: no parentheses needed
        text = " + ".join(t.text for t in plus)
        return text + "".join(f" - {t.text}" for t in minus)
    # factors are numbers or sums; sums need parentheses
    def show(e: Expr) -> str:
        return f"({e.text})" if e.op == "+" else e.text

    text = " * ".join(show(f) for f in plus)
    return text + "".join(f" / {show(f)}" for f in minus)
