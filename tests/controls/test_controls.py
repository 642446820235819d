"""Derived controls: same problems as the source, exact placeholder counts, permuted steps, stripped behaviors."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from cogbeh.controls import (
    CONTROLS,
    ControlError,
    apply_control,
    canonical_control,
    check_control,
    shuffled_steps,
    split_think,
    think_steps,
    tokenizer_line,
)
from cogbeh.pipeline import JobConfig, run
from cogbeh.records import Record
from cogbeh.tokenizer import TEST_TOKENIZER_PATH, TokenizerError, choose_placeholder, load_tokenizer
from cogbeh.validate import false_statements

EQUATION = re.compile(r"\d+ [-+*/] \d+ = \d+")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    """Correct 'all' traces: every behavior present, so every control has something to change."""
    out = tmp_path_factory.mktemp("all")
    return run(
        JobConfig(
            behaviors=frozenset({"backtracking", "verification", "subgoal_setting", "backward_chaining"}),
            n=30,
            out=out,
        )
    ).records


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, source: list[Record]) -> list[Record]:
    """Correct and incorrect records interleaved."""
    wrong = run(
        JobConfig(
            behaviors=frozenset({"backtracking"}), n=10, incorrect=True, out=tmp_path_factory.mktemp("wrong")
        )
    ).records
    return [r for pair in zip(source[:10], wrong, strict=True) for r in pair]


def _same_problems(before: list[Record], after: list[Record], control: str) -> None:
    assert [(r.problem_id, r.index, r.nums, r.target, r.answer) for r in before] == [
        (r.problem_id, r.index, r.nums, r.target, r.answer) for r in after
    ]
    assert all(
        a.id == f"{b.id}-{control}" and a.control == control for b, a in zip(before, after, strict=True)
    )


def test_every_registered_control_keeps_the_source_problems(source: list[Record]) -> None:
    for name in CONTROLS:
        derived, stats = apply_control(name, source, tokenizer="test")
        if name != "incorrect_only":  # a filter: all of source is correct, so nothing is kept
            _same_problems(source, derived, name)
        assert stats["control"] == name and stats["records"] == len(derived)


def test_empty_cot_empties_the_think_block_and_keeps_the_answer(source: list[Record]) -> None:
    derived, _ = apply_control("empty_cot", source)
    for before, after in zip(source, derived, strict=True):
        assert re.fullmatch(r"<think>\n</think>\n<answer>[^<]+</answer>", after.completion)
        assert after.completion.endswith(before.completion[before.completion.index("</think>") + 8 :])
        assert after.behavior_counts == dict.fromkeys(after.behavior_counts, 0)


def test_length_matched_placeholder_counts_equal_source_tokens_exactly(source: list[Record]) -> None:
    derived, stats = apply_control("length_matched", source, tokenizer="test")
    loaded = load_tokenizer("test")
    placeholder = stats["placeholder"]
    for before, after in zip(source, derived, strict=True):
        original = loaded.count(split_think(before)[1].strip())
        body = split_think(after)[1].strip("\n")
        assert body == placeholder * original  # nothing but the placeholder
        assert loaded.count(body) == original  # re-tokenised independently of the control
    assert stats["match_rate"] == 1.0
    assert stats["tokenizer"] == "test" and stats["test_tokenizer"] is True
    line = tokenizer_line(stats)
    assert line is not None and "'test'" in line and "test tokenizer shipped" in line


def test_length_matched_without_a_tokenizer_is_refused_and_names_the_fix(source: list[Record]) -> None:
    for call in (lambda: apply_control("dots", source[:2]), lambda: check_control("length_matched")):
        with pytest.raises(ControlError, match=r"--tokenizer PATH\|HUB_ID .*--tokenizer test"):
            call()
    assert check_control("dots", tokenizer="test") == "length_matched"
    assert check_control("empty_cot") == "empty_cot"  # only length_matched counts tokens


def test_check_control_loads_the_tokenizer_before_anything_is_generated(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="tokenizer ./missing/tok: no such file"):
        check_control("length_matched", tokenizer="./missing/tok")


def test_length_matched_with_an_explicit_tokenizer_file_or_folder(
    source: list[Record], tmp_path: Path
) -> None:
    (tmp_path / "tokenizer.json").write_bytes(TEST_TOKENIZER_PATH.read_bytes())
    for given in (str(TEST_TOKENIZER_PATH), str(tmp_path)):
        _, stats = apply_control("dots", source[:5], tokenizer=given)
        assert stats["control"] == "length_matched" and stats["match_rate"] == 1.0
        assert stats["tokenizer"] == given and stats["test_tokenizer"] is False
        assert "test tokenizer" not in (tokenizer_line(stats) or "test tokenizer")


def test_tokenizer_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(TokenizerError, match="not a tokenizers JSON"):
        load_tokenizer(tmp_path / "bad.json")
    with pytest.raises(TokenizerError, match="not a Hub id"):
        load_tokenizer("./missing/tokenizer")


def test_no_single_token_placeholder_is_an_error() -> None:
    with pytest.raises(TokenizerError, match="one token per repetition"):
        choose_placeholder(load_tokenizer("test"), candidates=("", " . ."))  # 0 and 2 tokens per repetition


def _lines(record: Record) -> list[str]:
    return split_think(record)[1].strip().split("\n")


def test_shuffled_steps_keeps_the_multiset_of_steps_and_the_layout(source: list[Record]) -> None:
    derived, stats = apply_control("shuffled_steps", source, seed=3)
    for before, after in zip(source, derived, strict=True):
        steps_before, gaps_before = think_steps(split_think(before)[1])
        steps_after, gaps_after = think_steps(split_think(after)[1])
        assert Counter(steps_before) == Counter(steps_after)
        assert gaps_before == gaps_after
        assert len(after.completion) == len(before.completion)
    assert stats["reordered_rate"] > 0.9
    again, _ = apply_control("shuffled_steps", source, seed=3)
    assert again == derived  # seeded: the same permutation every time


def test_shuffled_steps_keeps_the_problem_statement_and_conclusion_in_place(source: list[Record]) -> None:
    derived, _ = apply_control("shuffled_steps", source, seed=3)
    for before, after in zip(source, derived, strict=True):
        lines_before, lines_after = _lines(before), _lines(after)
        assert len(lines_before) >= 3  # the layout the control anchors on
        assert lines_after[0] == lines_before[0] and lines_after[-1] == lines_before[-1]
        middle_before, _ = think_steps("\n".join(lines_before[1:-1]))
        middle_after, _ = think_steps("\n".join(lines_after[1:-1]))
        assert Counter(middle_before) == Counter(middle_after)
        if len(set(middle_before)) >= 2:  # never the identity when another order exists
            assert middle_after != middle_before
        assert after.answer == before.answer


def test_shuffled_steps_on_short_thinks_keeps_the_first_and_last_sentence(source: list[Record]) -> None:
    think = "Make 10 from 2, 3 and 5. Try 2 + 3 = 5. Then 5 + 5 = 10. So 2 + 3 + 5 = 10."
    one_line = source[0].model_copy(
        update={"completion": f"<think>\n{think}\n</think>\n<answer>2 + 3 + 5</answer>"}
    )
    for seed in range(5):
        steps = think_steps(split_think(shuffled_steps(one_line, seed=seed))[1])[0]
        assert steps == [
            "Make 10 from 2, 3 and 5.",
            "Then 5 + 5 = 10.",
            "Try 2 + 3 = 5.",
            "So 2 + 3 + 5 = 10.",
        ]
    two_steps = source[0].model_copy(
        update={"completion": "<think>\nA b.\nC d.\n</think>\n<answer>1</answer>"}
    )
    assert shuffled_steps(two_steps).completion == two_steps.completion  # nothing between statement and end


def _moves(think: str) -> list[str]:
    """The moves of a think block in order (backward steps' inverse equations are behavior statements)."""
    from cogbeh.audit.parse import read

    return [" ".join(map(str, s.equation)) for s in read(think) if s.kind == "move"]


def _returns(think: str) -> list[tuple[int, ...]]:
    from cogbeh.audit.parse import read

    return [tuple(sorted(s.values or ())) for s in read(think) if s.kind == "return"]


def test_cue_stripped_keeps_every_move_and_return_and_no_behavior(source: list[Record]) -> None:
    from cogbeh.audit import audit_record
    from cogbeh.classify import count_behaviors

    derived, stats = apply_control("cue_stripped", source)
    for before, after in zip(source, derived, strict=True):
        think = split_think(after)[1]
        assert _moves(think) == _moves(split_think(before)[1])
        assert _returns(think) == _returns(split_think(before)[1])
        assert false_statements(think) == []
        assert count_behaviors(think) == {b: 0 for b in after.behavior_counts} == after.behavior_counts
        assert after.answer == before.answer
        assert audit_record(after) == []
        # No bare fragments: every sentence states a move (a number list alone would say nothing).
        for line in think.strip().split("\n")[1:-1]:
            assert "=" in line, line
    assert stats["no_behavior_rate"] == 1.0


def test_incorrect_only_keeps_exactly_the_wrong_answers(mixed: list[Record]) -> None:
    derived, stats = apply_control("no_positive", mixed)
    assert [r.id for r in derived] == [f"{r.id}-incorrect_only" for r in mixed if not r.correct]
    assert stats["kept"] == 10 and stats["dropped_correct"] == 10


def test_unknown_control_lists_the_valid_names() -> None:
    with pytest.raises(ControlError, match="valid: empty_cot, length_matched.*dots, no_positive"):
        canonical_control("dropout")


def test_controls_refuse_control_records_and_missing_think_blocks(source: list[Record]) -> None:
    empty, _ = apply_control("empty_cot", source[:1])
    with pytest.raises(ControlError, match="already a 'empty_cot' control"):
        apply_control("cue_stripped", empty)
    broken = source[0].model_copy(update={"completion": "<answer>1 + 2</answer>"})
    with pytest.raises(ControlError, match="no <think>"):
        apply_control("empty_cot", [broken])
