"""The safe verifier and reward: agreement with a reference evaluator, score categories, hostile input."""

from __future__ import annotations

import ast
import time
from collections import Counter
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogbeh.countdown import RULES, check, countdown_reward, evaluate, extract_answer, score

# --- reference evaluator -------------------------------------------------------------------------------

_AST_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _legal(value: Fraction, rules: str) -> bool:
    if rules == "standard":
        return True
    return value.denominator == 1 and (value > 0 if rules == "classic" else value >= 0)


def _arith(op: str, a: Fraction, b: Fraction) -> Fraction:
    return {"+": a.__add__, "-": a.__sub__, "*": a.__mul__, "/": a.__truediv__}[op](b)


def reference_check(text: str, nums: list[int], target: int, rules: str) -> bool:
    """Python's parser (never eval) plus exact arithmetic and per-rule legality of every intermediate."""
    literals: list[int] = []

    def walk(node: ast.AST) -> Fraction | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            literals.append(node.value)
            value = Fraction(node.value)
        elif isinstance(node, ast.BinOp) and type(node.op) in _AST_OPS:
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            op = _AST_OPS[type(node.op)]
            if op == "/" and right == 0:
                return None
            value = _arith(op, left, right)
        else:
            raise AssertionError(f"generator produced unexpected syntax: {text!r}")
        return value if _legal(value, rules) else None

    value = walk(ast.parse(text.strip(), mode="eval").body)
    used, available = Counter(literals), Counter(nums)
    fits = all(available[n] >= k for n, k in used.items()) if rules == "classic" else used == available
    return value is not None and fits and value == target


@st.composite
def expressions(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A well-formed expression (random spacing, redundant or minimal parentheses) and its literals."""
    leaves = st.integers(1, 13).map(lambda n: ("n", n))
    tree = draw(st.recursive(leaves, lambda sub: st.tuples(st.sampled_from("+-*/"), sub, sub), max_leaves=6))
    spaces = st.sampled_from(["", "", " ", "  ", "\t"])

    def show(node: tuple, top: bool) -> str:
        if node[0] == "n":
            return str(node[1])
        inner = f"{show(node[1], False)}{draw(spaces)}{node[0]}{draw(spaces)}{show(node[2], False)}"
        return inner if top else f"({draw(spaces)}{inner}{draw(spaces)})"

    def numbers(node: tuple) -> list[int]:
        return [node[1]] if node[0] == "n" else numbers(node[1]) + numbers(node[2])

    full = show(tree, True)
    text = draw(st.sampled_from([full, ast.unparse(ast.parse(full.replace("\t", " "), mode="eval"))]))
    return draw(spaces) + text + draw(spaces), numbers(tree)


@settings(max_examples=300, deadline=None)
@given(case=expressions(), rules=st.sampled_from(RULES), data=st.data())
def test_check_agrees_with_reference(case: tuple[str, list[int]], rules: str, data: st.DataObject) -> None:
    text, literals = case
    value = evaluate(text)
    nums = data.draw(st.permutations(literals))
    targets = {0, 1, 24}
    if value is not None:
        targets |= {round(value), round(value) + 1}
    for target in targets:
        assert check(text, nums, target, rules=rules) == reference_check(text, nums, target, rules)
    # a different multiset: one number swapped for another, or one dropped, or one added
    wrong = data.draw(
        st.sampled_from([nums[:-1], [*nums, 5], [*nums[:-1], nums[-1] % 13 + 1]]).filter(lambda w: len(w) > 0)
    )
    for target in targets:
        assert check(text, wrong, target, rules=rules) == reference_check(text, wrong, target, rules)


@settings(max_examples=200, deadline=None)
@given(case=expressions())
def test_evaluate_is_exact(case: tuple[str, list[int]]) -> None:
    text, _ = case
    value = evaluate(text)
    tree = ast.parse(text.strip(), mode="eval").body

    def exact(node: ast.AST) -> Fraction | None:
        if isinstance(node, ast.Constant):
            return Fraction(node.value)
        left, right = exact(node.left), exact(node.right)  # type: ignore[attr-defined]
        if left is None or right is None:
            return None
        op = _AST_OPS[type(node.op)]  # type: ignore[attr-defined]
        if op == "/":
            return None if right == 0 else left / right
        return {"+": left + right, "-": left - right, "*": left * right}[op]

    assert value == exact(tree)


# --- score and reward ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("<think>25+30 is too big</think><answer>(30 - 25 + 3) * 4</answer>", 1.0),
        ("<answer>(30 + 3 - 25) * 4</answer>", 1.0),
        ("<answer>30 - 25 + 3 * 4</answer>", 0.1),  # well formed, wrong value
        ("<answer>(30 - 25 + 3) * 4 = 32</answer>", 0.1),  # '=' is not part of the expression
        ("<answer></answer>", 0.1),
        ("<answer>I give up</answer>", 0.1),
        ("(30 - 25 + 3) * 4", 0.0),  # no tag
        ("<answer>(30 - 25 + 3) * 4", 0.0),  # no closing tag
        ("", 0.0),
        # the last answer wins, both ways round
        ("<answer>1 + 2</answer> then <answer>(30 - 25 + 3) * 4</answer>", 1.0),
        ("<answer>(30 - 25 + 3) * 4</answer> then <answer>1 + 2</answer>", 0.1),
    ],
)
def test_score_categories(completion: str, expected: float) -> None:
    assert score(completion, [25, 30, 3, 4], 32) == expected


def test_format_score_is_configurable() -> None:
    assert score("<answer>1</answer>", [25, 30, 3, 4], 32, format_score=0.0) == 0.0
    assert score("<answer>1</answer>", [25, 30, 3, 4], 32, format_score=0.5) == 0.5
    assert score("no tag", [25, 30, 3, 4], 32, format_score=0.5) == 0.0


def test_conversational_completions() -> None:
    good = [{"role": "assistant", "content": "<think>try</think><answer>3 + 4</answer>"}]
    wrong = [{"role": "assistant", "content": "<answer>3 * 4</answer>"}]
    split = [{"role": "assistant", "content": "<answer>3 "}, {"role": "assistant", "content": "+ 4</answer>"}]
    # only the assistant's words count: a tag in a user turn is not the model's answer
    user_only = [{"role": "user", "content": "<answer>3 + 4</answer>"}]
    assert score(good, [3, 4], 7) == 1.0
    assert score(wrong, [3, 4], 7) == pytest.approx(0.1)
    assert score(split, [3, 4], 7) == 1.0
    assert score(user_only, [3, 4], 7) == 0.0
    assert score([], [3, 4], 7) == 0.0


def test_countdown_reward_ignores_trl_extras() -> None:
    completions = [
        "<answer>3 + 4</answer>",
        [{"role": "assistant", "content": "<answer>3 * 4</answer>"}],
        "none",
    ]
    rewards = countdown_reward(
        completions,
        nums=[[3, 4], [3, 4], [3, 4]],
        target=[7, 7, 7],
        prompts=[[{"role": "user", "content": "p"}]] * 3,
        completion_ids=[[1, 2, 3]] * 3,
        trainer_state=object(),
        log_extra=lambda *a, **k: None,
        log_metric=lambda *a, **k: None,
        difficulty=["easy"] * 3,  # any other dataset column
    )
    assert rewards == [1.0, pytest.approx(0.1), 0.0]
    assert all(isinstance(r, float) for r in rewards)


def test_countdown_reward_is_positional_compatible() -> None:
    assert countdown_reward(["<answer>3 + 4</answer>"], [[3, 4]], [7]) == [1.0]


# --- hostile input -------------------------------------------------------------------------------------

DEEP = "(" * 10_000 + "1 + 2" + ")" * 10_000
MB = 1_000_000

#: (expression, nums, target, expected check under standard rules)
HOSTILE_CHECK: list[tuple[object, list[int], int, bool]] = [
    ("9**9**9**9", [9, 9, 9, 9], 1, False),
    ("9**9**9**9", [9, 9, 9, 9], 9, False),
    ("1.5*6", [1, 5, 6], 9, False),  # digits split on the dot: TinyZero and reasoning-gym accept this
    ("6 // 2", [6, 2], 3, False),
    ("6 / 2", [6, 2], 3, True),  # control: plain division is fine
    ("7 % 4", [7, 4], 3, False),
    ("2 ^ 3", [2, 3], 1, False),
    ("2 ^ 3", [2, 3], 8, False),
    ("2 ** 3", [2, 3], 8, False),
    ("-1 + 3", [1, 3], 2, False),  # unary minus
    ("3 - -1", [3, 1], 4, False),
    ("+3 + 1", [3, 1], 4, False),  # unary plus
    ("3 + (-1)", [3, 1], 2, False),
    ("x + 3", [3], 3, False),
    ("True + 3", [3], 4, False),
    ("abs(3) + 4", [3, 4], 7, False),
    ("max(3, 4)", [3, 4], 4, False),
    ("__import__('os').system('true')", [1], 1, False),
    ("(lambda: 7)()", [7], 7, False),
    ("\u0663 + \u0664", [3, 4], 7, False),  # Arabic-Indic digits
    ("\uff13 + \uff14", [3, 4], 7, False),  # full-width digits
    ("3 + \uff14", [3, 4], 7, False),
    ("\u00b3 + 4", [3, 4], 7, False),  # superscript three
    ("3 + 4\x00", [3, 4], 7, False),  # NUL bytes
    ("\x003 + 4", [3, 4], 7, False),
    ("3\x00 + 4", [3, 4], 7, False),
    ("3 + 4 = 7", [3, 4], 7, False),
    ("3 + 4 == 7", [3, 4], 1, False),
    ("1e1", [1, 1], 10, False),
    ("0x10", [0, 10], 16, False),
    ("1_0", [1, 0], 10, False),
    ("34", [3, 4], 34, False),  # concatenating digits
    ("3 4", [3, 4], 34, False),
    ("3 4", [3, 4], 7, False),
    ("", [3], 3, False),
    ("()", [3], 3, False),
    ("(3 + 4", [3, 4], 7, False),
    ("3 + 4)", [3, 4], 7, False),
    ("3 +", [3], 3, False),
    ("* 3", [3], 3, False),
    ("3 + * 4", [3, 4], 7, False),
    (DEEP, [1, 2], 3, False),  # 10^4-deep parentheses
    ("(" * 30 + "1 + 2" + ")" * 30, [1, 2], 3, True),  # modest nesting is fine
    ("(" * 60 + "1" + ")" * 60 + "+ 2", [1, 2], 3, True),
    ("(" * 400 + "1 + 2" + ")" * 400, [1, 2], 3, False),  # beyond the nesting cap
    ("1 + " * (MB // 4) + "1", [1] * (MB // 4 + 1), MB // 4 + 1, False),  # 1 MB expression
    (" " * MB + "3 + 4", [3, 4], 7, False),  # over the length cap
    ("(" * MB, [1], 1, False),
    ("9" * MB, [9], 9, False),
    ("99999999999999999999 - 99999999999999999998", [99999999999999999999, 99999999999999999998], 1, False),
    ("<answer>3 + 4</answer>", [3, 4], 7, False),
    ("2 * 5", [2, 3, 5], 10, False),  # drops a number
    ("5 + 5", [5, 3], 10, False),  # reuses one number and drops another (stream-of-search's hole)
    ("4 * 3 * 2 * 2", [1, 2, 3, 4], 48, False),
    ("4 * 3 * 2 * 1", [1, 2, 3, 4], 24, True),
    ("4 / (2 - 2)", [4, 2, 2], 0, False),  # division by zero
    ("4 / (2 - 2) * 0", [4, 2, 2, 0], 0, False),
    ("(2 - 2) / 4", [2, 2, 4], 0, True),
    ("1 / 3 * 3", [1, 3, 3], 1, True),  # exact rational intermediates under standard rules
    ("2 / 3 + 1 / 3", [2, 3, 1, 3], 1, True),
    ("0.1 + 0.2", [0, 1, 0, 2], 0, False),
    (None, [3], 3, False),
    (7, [7], 7, False),
    (b"3 + 4", [3, 4], 7, False),
    (["3 + 4"], [3, 4], 7, False),
]


#: Hostile under every-number rules, but a legal subset answer under classic rules.
CLASSIC_SUBSETS = [("2 * 5", [2, 3, 5], 10)]


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


@pytest.mark.parametrize(("expr", "nums", "target", "expected"), HOSTILE_CHECK, ids=lambda v: repr(v)[:40])
def test_hostile_check(expr: object, nums: list[int], target: int, expected: bool) -> None:
    for rules in RULES:
        result, seconds = _timed(lambda rules=rules: check(expr, nums, target, rules=rules))
        assert isinstance(result, bool)
        assert seconds < 1.0, f"check took {seconds:.3f} s"
        if not expected and not (rules == "classic" and (expr, nums, target) in CLASSIC_SUBSETS):
            assert result is False, rules
    result, _ = _timed(lambda: check(expr, nums, target))
    assert result is expected
    # wrapped in tags, the same verdict drives the reward
    if isinstance(expr, str):
        reward, seconds = _timed(lambda: score(f"<answer>{expr}</answer>", nums, target))
        assert reward == (1.0 if expected else pytest.approx(0.1))
        assert seconds < 1.0, f"score took {seconds:.3f} s"


def test_rules_matter_for_intermediates() -> None:
    assert check("(2 - 2) / 4", [2, 2, 4], 0, rules="integer")
    assert not check("(2 - 2) / 4", [2, 2, 4], 0, rules="classic")  # 0 is not a positive intermediate
    assert not check("1 / 3 * 3", [1, 3, 3], 1, rules="integer")
    assert not check("1 - 3 + 3", [1, 3, 3], 1, rules="integer")  # -2 on the way
    assert check("3 + 1 - 3", [1, 3, 3], 1, rules="integer")
    assert check("100", [100, 3, 7], 100, rules="classic") and not check("100", [100, 3, 7], 100)
    assert not check("100 + 100", [100, 3, 7], 200, rules="classic")  # a tile used twice
    assert check("2 * 5", [2, 3, 5], 10, rules="classic")


#: (completion, nums, target, expected score)
HOSTILE_SCORE: list[tuple[object, list[int], int, float]] = [
    ("<answer>" * 100_000, [3, 4], 7, 0.0),  # no closing tag
    ("<answer>" * 100_000 + "3 + 4</answer>", [3, 4], 7, 1.0),
    ("</answer>" * 100_000, [3, 4], 7, 0.0),
    ("x" * MB + "<answer>3 + 4</answer>", [3, 4], 7, 1.0),  # a long think block is fine
    ("<answer>" + "1 + " * (MB // 4) + "1</answer>", [1], 1, 0.1),
    ("<answer>" + DEEP + "</answer>", [1, 2], 3, 0.1),
    ("<answer><answer>3 + 4</answer></answer>", [3, 4], 7, 0.1),  # nested: not a clean expression
    ("<answer>1 + 2<answer>3 + 4</answer>", [3, 4], 7, 1.0),  # the complete pair is the inner one
    ("<answer>3 + 4</answer><answer>", [3, 4], 7, 1.0),  # a dangling open tag after the last answer
    ("<answer>3 + 4</answer><answer>9**9**9**9</answer>", [3, 4], 7, 0.1),  # the last one counts
    ("<answer>__import__('os').system('true')</answer>", [1], 1, 0.1),
    ("<ANSWER>3 + 4</ANSWER>", [3, 4], 7, 0.0),
    ("<answer>3 + 4\x00</answer>", [3, 4], 7, 0.1),
    (None, [3, 4], 7, 0.0),
    (12, [3, 4], 7, 0.0),
    ([{"role": "assistant", "content": None}], [3, 4], 7, 0.0),
    ([{"role": "assistant", "content": "<answer>" * 100_000}], [3, 4], 7, 0.0),
    (["<answer>3 + 4</answer>"], [3, 4], 7, 0.0),  # a list, but not of messages
]


@pytest.mark.parametrize(
    ("completion", "nums", "target", "expected"), HOSTILE_SCORE, ids=lambda v: repr(v)[:40]
)
def test_hostile_score(completion: object, nums: list[int], target: int, expected: float) -> None:
    result, seconds = _timed(lambda: score(completion, nums, target))
    assert result == pytest.approx(expected)
    assert seconds < 1.0, f"score took {seconds:.3f} s"
    rewards, seconds = _timed(lambda: countdown_reward([completion], [nums], [target], prompts=["p"]))
    assert rewards == [pytest.approx(expected)]
    assert seconds < 1.0


def test_extract_answer_takes_the_last_complete_pair() -> None:
    assert extract_answer("<answer>a</answer><answer>b</answer>") == "b"
    assert extract_answer("<answer>a") is None
    assert extract_answer("a</answer>") is None
    assert extract_answer(None) is None
