"""The three rule sets and the arithmetic each one allows on a pair of values."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal, get_args

Rules = Literal["standard", "integer", "classic"]
RULES: tuple[Rules, ...] = get_args(Rules)

#: A value an expression can take: an int, or a Fraction under `standard` rules.
Value = int | Fraction
Op = Literal["+", "-", "*", "/"]
OPS: tuple[Op, ...] = ("+", "-", "*", "/")


def validate_rules(rules: str) -> Rules:
    """Return `rules` if it names a rule set, else raise ValueError listing them."""
    if rules not in RULES:
        raise ValueError(f"unknown rules {rules!r}; choose one of {', '.join(RULES)}")
    return rules  # type: ignore[return-value]


def normalise(value: Value) -> Value:
    """Integral Fractions become ints so that 3 and Fraction(3) are one set member with one spelling."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def apply(op: Op, left: Value, right: Value, rules: Rules) -> Value | None:
    """`left op right` under `rules`, or None when the rules forbid it (or it divides by zero)."""
    if op == "+":
        result: Value = left + right
    elif op == "-":
        result = left - right
    elif op == "*":
        result = left * right
    else:
        if right == 0:
            return None
        if rules == "standard":
            result = normalise(Fraction(left) / Fraction(right))
        elif isinstance(left, int) and isinstance(right, int) and left % right == 0:
            result = left // right
        else:
            return None
    return result if allowed(result, rules) else None


def allowed(value: Value, rules: Rules) -> bool:
    """Whether an intermediate value is legal: anything (standard), int ≥ 0 (integer), int > 0 (classic)."""
    if rules == "standard":
        return True
    if not isinstance(value, int):
        return False
    return value > 0 if rules == "classic" else value >= 0
