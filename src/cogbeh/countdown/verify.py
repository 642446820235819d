"""Safe Countdown verifier and reward: a tiny parser with exact arithmetic; nothing is ever evaluated as code.

Accepted syntax: ASCII integer literals, binary + - * /, parentheses, spaces and tabs. Everything else
(decimals, exponents, `**`, `//`, `%`, `^`, unary signs, names, calls, non-ASCII digits, '=') is rejected.
Length, literal and nesting caps make every input decidable in microseconds, whatever its size.
The table (nums, target) is the caller's data, not the model's: a value that is not a whole number (None, NaN,
3.5) is a ValueError naming it, never truncated; a float that is exactly whole (3.0) counts as that integer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction

from cogbeh.countdown.rules import Rules, Value, allowed, apply, validate_rules, whole_number

#: Longer answers are rejected outright: a 6-number Countdown expression needs well under 100 characters.
MAX_EXPR_CHARS = 1000
MAX_LITERAL_DIGITS = 12
MAX_DEPTH = 64
_TOKEN = re.compile(r"\s*(?:(\d+)|(.))")
_VALID_CHARS = re.compile(r"[0-9+\-*/() \t]*")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_ANSWER_OPEN, _ANSWER_CLOSE = "<answer>", "</answer>"


class _Invalid(Exception):
    """The expression breaks the syntax or the rules."""


def _tokens(expr: str) -> list[str | int]:
    tokens: list[str | int] = []
    for match in _TOKEN.finditer(expr):
        number, symbol = match.groups()
        if number is not None:
            if len(number) > MAX_LITERAL_DIGITS:
                raise _Invalid
            tokens.append(int(number))
        elif symbol is not None and not symbol.isspace():
            tokens.append(symbol)
    return tokens


def _to_postfix(tokens: list[str | int]) -> list[str | int]:
    """Shunting-yard with a strict infix grammar: operand, then operator-operand pairs; no unary signs."""
    out: list[str | int] = []
    stack: list[str] = []
    expect_operand = True
    for token in tokens:
        if isinstance(token, int):
            if not expect_operand:
                raise _Invalid
            out.append(token)
            expect_operand = False
        elif token == "(":
            if not expect_operand or len(stack) >= MAX_DEPTH:
                raise _Invalid
            stack.append(token)
        elif token == ")":
            if expect_operand:
                raise _Invalid
            while stack and stack[-1] != "(":
                out.append(stack.pop())
            if not stack:
                raise _Invalid
            stack.pop()
        else:  # an operator; the character set was checked, so it is one of + - * /
            if expect_operand:
                raise _Invalid
            while stack and stack[-1] != "(" and _PRECEDENCE[stack[-1]] >= _PRECEDENCE[token]:
                out.append(stack.pop())
            stack.append(token)
            expect_operand = True
    if expect_operand or "(" in stack:
        raise _Invalid
    out.extend(reversed(stack))
    return out


def _evaluate(postfix: list[str | int], rules: Rules) -> Value:
    stack: list[Value] = []
    for token in postfix:
        if isinstance(token, int):
            stack.append(token)
            continue
        right, left = stack.pop(), stack.pop()
        value = apply(token, left, right, rules)  # type: ignore[arg-type]
        if value is None:
            raise _Invalid
        stack.append(value)
    return stack[0]


def _uses_numbers(literals: list[int], nums: Sequence[int], rules: Rules) -> bool:
    used, available = Counter(literals), Counter(int(n) for n in nums)
    if rules == "classic":  # any subset, each tile at most once
        return all(available[n] >= k for n, k in used.items())
    return used == available


def _tokens_of(expr: object) -> list[str | int] | None:
    """Tokens of a string in the accepted character set and size, else None."""
    if not isinstance(expr, str) or len(expr) > MAX_EXPR_CHARS:
        return None
    text = expr.strip()
    if not text or not _VALID_CHARS.fullmatch(text):
        return None
    try:
        return _tokens(text)
    except _Invalid:
        return None


def _table(nums: object, target: object) -> tuple[list[int], int]:
    """`nums` and `target` as ints; ValueError for a malformed table (see the module docstring)."""
    if isinstance(nums, (str, bytes)) or not isinstance(nums, Iterable):
        raise ValueError(f"nums must be a list of whole numbers, got {nums!r}")
    values = list(nums)
    if type(target) is int and all(type(n) is int for n in values):  # the usual case, kept cheap for rewards
        return values, target
    return [whole_number(n, "each of nums") for n in values], whole_number(target, "target")


def check(expr: object, nums: Sequence[int], target: int, *, rules: Rules = "standard") -> bool:
    """Whether `expr` is a valid expression over `nums` (per `rules`) whose exact value is `target`.

    Never raises on `expr`; raises ValueError when `nums` or `target` is not whole numbers."""
    rules = validate_rules(rules)
    nums, target = _table(nums, target)
    tokens = _tokens_of(expr)
    if tokens is None:
        return False
    literals = [t for t in tokens if isinstance(t, int)]
    if not _uses_numbers(literals, nums, rules) or not all(allowed(n, rules) for n in literals):
        return False
    try:
        value = _evaluate(_to_postfix(tokens), rules)
    except (_Invalid, IndexError):
        return False
    return value == Fraction(target)


def evaluate(expr: object) -> Fraction | None:
    """Exact value of an arithmetic expression in the accepted syntax (any numbers), or None if invalid."""
    tokens = _tokens_of(expr)
    if tokens is None:
        return None
    try:
        return Fraction(_evaluate(_to_postfix(tokens), "standard"))
    except (_Invalid, IndexError):
        return None


def extract_answer(text: object) -> str | None:
    """Content of the last complete `<answer>...</answer>` in `text`, or None (linear time, any input)."""
    if not isinstance(text, str):
        return None
    close = text.rfind(_ANSWER_CLOSE)
    if close < 0:
        return None
    start = text.rfind(_ANSWER_OPEN, 0, close)
    if start < 0:
        return None
    return text[start + len(_ANSWER_OPEN) : close]


def score(completion: object, nums: Sequence[int], target: int, *, format_score: float = 0.1) -> float:
    """TinyZero's reward made safe: 1.0 if the last answer checks, `format_score` if tagged but wrong, else 0.0.

    Never raises on `completion`; raises ValueError when `nums` or `target` is not whole numbers."""
    nums, target = _table(nums, target)  # before the answer: a broken row must not pass as a 0.0 reward
    answer = extract_answer(_completion_text(completion))
    if answer is None:
        return 0.0
    return 1.0 if check(answer, nums, target) else format_score


def _completion_text(completion: object) -> str:
    """A TRL completion as text: a string, or a conversational list of messages (assistant content joined)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, (list, tuple)):
        parts = []
        for message in completion:
            if isinstance(message, dict) and message.get("role", "assistant") == "assistant":
                content = message.get("content")
                parts.append(content if isinstance(content, str) else "")
        return "".join(parts)
    return ""


def countdown_reward(
    completions: Sequence[object], nums: Sequence[Sequence[int]], target: Sequence[int], **kwargs: object
) -> list[float]:
    """TRL reward function: one `score` per completion; extra keyword columns (prompts, ...) are ignored."""
    format_score = kwargs.get("format_score", 0.1)
    if not isinstance(format_score, (int, float)):
        format_score = 0.1
    return [score(c, n, t, format_score=float(format_score)) for c, n, t in zip(completions, nums, target, strict=True)]


#: (user turn, assistant turn) markers: a veRL fork that decodes prompt + response (TinyZero, the paper's) passes the
#: prompt too, and the prompt's own example `<answer>` must not count. Upstream veRL passes the response only.
_PROMPT_TURNS = (
    ("User:", "Assistant:"),
    ("<|im_start|>user", "<|im_start|>assistant"),
    ("<|start_header_id|>user<|end_header_id|>", "<|start_header_id|>assistant<|end_header_id|>"),
)


def _response_part(text: str) -> str:
    """`text` after the assistant turn that follows a user turn, if it holds a prompt; else `text` unchanged."""
    for user, assistant in _PROMPT_TURNS:
        turn = text.find(user)
        if turn >= 0:
            reply = text.find(assistant, turn + len(user))
            if reply >= 0:
                return text[reply + len(assistant) :]
    return text


def verl_compute_score(
    data_source: object,
    solution_str: object,
    ground_truth: object,
    extra_info: object = None,
    *,
    format_score: float = 0.1,
    **kwargs: object,
) -> float:
    """veRL's custom reward (`custom_reward_function.name`): `score` on a veRL row's ground truth.

    `ground_truth` is the row's `reward_model.ground_truth`, {"target": int, "numbers": [...]}, as
    `cogbeh-gen export verl` and TinyZero's parquet store it (a JSON string of it is accepted too).
    1.0 correct, `format_score` (0.1) for a tagged but wrong answer, 0.0 with no answer tag; nothing is evaluated
    as code. `data_source`, `extra_info` and any further keywords veRL passes are ignored. A malformed ground
    truth raises ValueError: a broken row must stop the run, not train on a 0.0 reward."""
    import json
    from collections.abc import Mapping

    truth = ground_truth
    if isinstance(truth, (str, bytes)):
        try:
            truth = json.loads(truth)
        except ValueError:
            raise ValueError(f"ground_truth must be {{'target', 'numbers'}}, got {ground_truth!r}") from None
    if not isinstance(truth, Mapping) or "target" not in truth or "numbers" not in truth:
        raise ValueError(f"ground_truth must be {{'target', 'numbers'}}, got {ground_truth!r}")
    text = solution_str if isinstance(solution_str, str) else ""
    return score(_response_part(text), truth["numbers"], truth["target"], format_score=float(format_score))
