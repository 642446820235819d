"""Sentence skeletons and the diversity report: masking, splitting, openings/closings, groups, the script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cogbeh.diversity import (
    OVERALL,
    by_condition,
    group_reports,
    is_next_then,
    measure,
    sentences,
    skeleton,
    split_sentences,
)
from cogbeh.records import Record, zero_counts

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "diversity.py"


def completion(*lines: str, answer: str = "1 + 2") -> str:
    """A well-formed completion whose think block has these lines."""
    return "<think>\n" + "\n".join(lines) + "\n</think>\n<answer>" + answer + "</answer>"


def record(condition: str, text: str, index: int = 0, control: str | None = None) -> Record:
    """A minimal valid Record around a completion."""
    return Record(
        id=f"{condition}-0-{index}",
        condition=condition,
        behaviors=[],
        nums=[1, 2],
        target=3,
        prompt="make 3",
        completion=text,
        answer="1 + 2",
        correct=True,
        behavior_counts=zero_counts(),
        provider="symbolic",
        model=None,
        seed=0,
        index=index,
        problem_id="p",
        control=control,
    )


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Try 7 - 2 = 5, leaving 4, 5 and 9.", "Try N OP N = N, leaving LIST."),
        ("Back to 18, 4 and 10.", "Back to LIST."),
        ("Back to 4 and 8.", "Back to LIST."),
        ("Back to 1, 2, 3 and 4.", "Back to LIST."),
        ("Back to 1, 2, 3, and 4.", "Back to LIST."),
        ("Then 13 * 5 = 65.", "Then N OP N = N."),
        ("12 × 2 − 3 ÷ 7 = 21", "N OP N OP N OP N = N"),
        ("10+4=14", "N OP N=N"),
        ("Written as one expression: 20 * (16 - 15).", "Written as one expression: N OP (N OP N)."),
        ("Putting it together: (22 - 8) * 9 / 7.", "Putting it together: (N OP N) OP N OP N."),
        ("Go back to the beginning (4, 13 and 20).", "Go back to the beginning (LIST)."),
        (
            "Take 20 and 4: 20 / 4 = 5, so the numbers are now 13 and 5.",
            "Take LIST: N OP N = N, so the numbers are now LIST.",
        ),
        ("  Compare:   16 vs 24,\toff by 8. ", "Compare: N vs N, off by N."),
        ("A well-known trade-off and/or a re-think.", "A well-known trade-off and/or a re-think."),
        ("8 ≠ 11 ✓", "N ≠ N ✓"),
        ("Now we have 3.5 and nothing else.", "Now we have N and nothing else."),
    ],
)
def test_skeleton_masks_numbers_operators_and_lists(sentence: str, expected: str) -> None:
    assert skeleton(sentence) == expected


def test_list_length_is_masked() -> None:
    assert len({skeleton(f"Back to {items}.") for items in ("4 and 8", "4, 13 and 20", "1, 2, 3 and 4")}) == 1


def test_an_operand_is_not_swallowed_by_a_list() -> None:
    # "20 - 13 and 4": 13 belongs to the subtraction, so only the expression and the lone 4 remain.
    assert skeleton("Use 20 - 13 and 4.") == "Use N OP N and N."
    assert skeleton("Use 4 and 20 - 13.") == "Use N and N OP N."


def test_capital_n_and_op_in_prose_are_not_masks() -> None:
    assert skeleton("No OP here, Now 4.") == "No OP here, Now N."


def test_split_sentences_on_punctuation_then_capital_digit_or_paren() -> None:
    line = "Try 3.5 now. 8 ≠ 11 ✓ Next up! (Then) this? And e.g. that. done. x"
    assert split_sentences(line) == [
        "Try 3.5 now.",
        "8 ≠ 11 ✓",
        "Next up!",
        "(Then) this?",
        "And e.g. that. done. x",
    ]


def test_check_mark_ends_a_sentence() -> None:
    assert split_sentences("4 + 8 = 12 ✓ That is the target.") == ["4 + 8 = 12 ✓", "That is the target."]


def test_decimals_stay_whole() -> None:
    assert split_sentences("We got 3.5 here. 7.25 is less.") == ["We got 3.5 here.", "7.25 is less."]


def test_sentences_go_line_by_line_and_skip_blank_lines() -> None:
    think = "\nFirst line. Second.\n\n  Third line!  \n"
    assert sentences(think) == ["First line.", "Second.", "Third line!"]
    assert split_sentences("   ") == []


def test_masking_a_whole_block_equals_masking_sentence_by_sentence() -> None:
    lines = [
        "Try 7 - 2 = 5. 4, 5 and 9 remain.  Back to 4 and 8!",
        "(3 + 4) * 2 = 14 ✓ 14 and 3 left? 20 / 4 = 5, leaving 13 and 5.",
        "Use 20 - 13 and 4. Done 3.5 - 1 = 2.5.",
    ]
    expected = Counter(skeleton(sentence) for sentence in sentences("\n".join(lines)))
    report = measure([completion(*lines)], top=100)
    assert dict(report.top_skeletons) == {text: count / 8 for text, count in expected.items()}
    assert report.sentences == sum(expected.values()) == 8


def test_next_then_is_a_whole_word_in_any_case() -> None:
    assert is_next_then("Next, 4 + 4 = 8.")
    assert is_next_then("then 4 + 4 = 8.")
    assert is_next_then("THEN: 8")
    assert not is_next_then("Thence we go.")
    assert not is_next_then("Nextly we go.")
    assert not is_next_then("Try 4 + 4, then 8.")


def test_measure_counts_openings_closings_and_first_steps() -> None:
    texts = [
        completion("Make 3 from 1 and 2.", "Next, 1 + 2 = 3. Done."),
        completion("Make 5 from 2 and 3.", "Then 2 + 3 = 5. Done."),
        completion("We want 9 from 4, 5 and 6.", "Try 4 + 5 = 9. So the answer is 4 + 5."),
        completion("Make 7 from 3 and 4."),
    ]
    report = measure(texts)
    assert report.records == 4
    assert report.malformed == 0
    assert report.sentences == 10
    assert report.openings == 2  # "Make N from LIST." twice, "We want ..." once
    assert report.closings == 3  # "Done." twice, the answer sentence, and the one-line trace's only sentence
    assert report.next_then_first_steps == 2
    assert report.distinct_skeletons == 7
    assert report.top10_share == 1.0
    assert report.top_skeletons[0] == ("Make N from LIST.", 0.3)
    assert report.top_skeletons[1] == ("Done.", 0.2)


def test_measure_skips_malformed_and_handles_empty_think() -> None:
    report = measure(["no tags at all", completion(), "<think>\nA.\n</think>\n<answer>x</answer>"])
    assert report.malformed == 1
    assert report.records == 2
    assert report.sentences == 1
    assert (report.openings, report.closings) == (1, 1)


def test_top_share_covers_ten_skeletons_and_top_lists_k() -> None:
    lines = [f"Line {'x' * i}." for i in range(20)]  # 20 distinct skeletons, one sentence each
    report = measure([completion(*lines)], top=3)
    assert report.distinct_skeletons == 20
    assert report.top10_share == pytest.approx(0.5)
    assert len(report.top_skeletons) == 3
    assert measure([]).top10_share == 0.0


def test_as_dict_is_json_ready() -> None:
    data = measure([completion("Make 3 from 1 and 2.", "Next, 1 + 2 = 3.")]).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["top_skeletons"][0] == ["Make N from LIST.", 0.5]


def test_by_condition_groups_records_plus_overall() -> None:
    records = [
        record("none", completion("Make 3 from 1 and 2.", "Next, 1 + 2 = 3.")),
        record("none", completion("Make 4 from 1 and 3.", "Try 1 + 3 = 4."), index=1),
        record("all", completion("Goal: 3.", "Then 1 + 2 = 3. 3 = 3 ✓ Good.")),
        record("all", completion(), index=1, control="empty_cot"),
    ]
    reports = by_condition(records)
    assert list(reports) == ["all", "all/empty_cot", "none", OVERALL]
    figures = {group: (r.records, r.sentences, r.next_then_first_steps) for group, r in reports.items()}
    assert figures["none"] == (2, 4, 1)
    assert figures["all"] == (1, 4, 1)
    assert (reports["all/empty_cot"].records, reports["all/empty_cot"].sentences) == (1, 0)
    assert reports[OVERALL].records == 4
    assert reports[OVERALL].sentences == 8
    assert reports[OVERALL].next_then_first_steps == 2


def test_group_reports_takes_any_labels() -> None:
    reports = group_reports([("b", completion("A 1.")), ("a", completion("A 2.")), ("a", "broken")])
    assert list(reports) == ["a", "b", OVERALL]
    assert reports["a"].malformed == 1
    assert reports[OVERALL].distinct_skeletons == 1


def test_script_prints_json_for_a_records_file(tmp_path: Path) -> None:
    rows = [
        record("none", completion("Make 3 from 1 and 2.", "Next, 1 + 2 = 3.")),
        record("backtracking", completion("Make 5 from 2 and 3.", "Try 2 * 3 = 6. Back to 2 and 3.")),
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(r.to_json_line() + "\n" for r in rows), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    data = json.loads(done.stdout)
    assert set(data) == {"none", "backtracking", OVERALL}
    assert data["none"]["next_then_first_steps"] == 1
    assert data["backtracking"]["sentences"] == 3
    assert data[OVERALL]["openings"] == 1
    # A folder means its records.jsonl; the Markdown table names each condition.
    table = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "--top", "2"], capture_output=True, text=True, check=True
    ).stdout
    assert "| backtracking | 1 | 3 |" in table
    assert "`Make N from LIST.`" in table
