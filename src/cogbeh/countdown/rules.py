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


def whole_number(value: object, what: str) -> int:
    """`value` as an int: an int, or a number that is exactly whole (3.0 -> 3, as Parquet float columns hold).

    Anything else is a ValueError naming `what`: truncating 3.7 to 3 would let an answer use a tile that is not
    on the table, and None or NaN mean a broken row, not a wrong answer.
    """
    import math
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if not number.is_integer():
        raise ValueError(f"{what} must be a whole number, got {value!r} (refusing to round it)")
    return int(number)
