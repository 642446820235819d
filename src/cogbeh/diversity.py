"""How templated trace prose is: sentence skeletons (numbers, operators, lists masked) and their spread."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from cogbeh.records import Record
from cogbeh.validate import think_block

#: The group that pools every record, beside the per-condition groups.
OVERALL = "overall"
#: The top-share figure always covers this many skeletons, whatever `top` a report lists.
TOP_SHARE_OF = 10

# A sentence ends at . ! ? or ✓, then whitespace, then a capital, digit or "(": "3.5" and "e.g. x" stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?✓])\s+(?=[A-Z0-9(])")
# Private-use sentinels stand for masked tokens while masking, so a capital N or "OP" in the prose is never
# mistaken for a mask; they become the visible tokens only at the end.
_NUM, _OP, _LIST = "\ue000", "\ue001", "\ue002"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?!\w)")  # a decimal is one number, "3rd" none
# An operator counts only between operands (a number or a parenthesis), so prose dashes and slashes survive.
# Spaces are normalised first, so at most one sits on each side. The pattern opens with the operator (not a
# lookbehind) so the regex engine can skip straight to candidates: twice as fast on a trace.
_OPERATOR = re.compile(rf"[-+*/×÷−](?:(?<=[{_NUM})] .)|(?<=[{_NUM})].))(?= ?[{_NUM}(])")
# Two or more numbers joined by commas and a final "and"; a number that is an operand stays in its expression.
_NUMBER_LIST = re.compile(rf"{_NUM}(?<!{_OP} {_NUM})(?:, {_NUM})*,? and {_NUM}(?! {_OP})")
_NEXT_THEN = re.compile(r"(?:next|then)\b", re.IGNORECASE)


def lines(think: str) -> list[str]:
    """The non-empty lines (paragraphs) of a think block, stripped."""
    return [line.strip() for line in think.split("\n") if line.strip()]


def split_sentences(line: str) -> list[str]:
    """The sentences of one line, in order, stripped; an empty line has none."""
    return [part.strip() for part in _SENTENCE_END.split(line.strip()) if part.strip()]


def sentences(think: str) -> list[str]:
    """Every sentence of a think block, line by line."""
    return [sentence for line in lines(think) for sentence in split_sentences(line)]


def skeleton(sentence: str) -> str:
    """The sentence with numbers as N, operators between them as OP, number lists as LIST, spaces single."""
    return _mask(" ".join(sentence.split()))


def _mask(text: str) -> str:
    # Masking never crosses a line or a sentence end (lists join by ", " and "and", operators sit between
    # operands), so a whole think block is masked in one pass: three regex calls per block, not per sentence.
    text = "\n".join(" ".join(line.split()) for line in text.split("\n"))  # str.split beats a regex here
    text = _NUMBER.sub(_NUM, text)
    text = _OPERATOR.sub(f" {_OP} ", text).replace("  ", " ")  # "N - N" became "N  OP  N"
    text = _NUMBER_LIST.sub(_LIST, text)
    return text.replace(_NUM, "N").replace(_OP, "OP").replace(_LIST, "LIST")


def is_next_then(sentence: str) -> bool:
    """Whether a sentence starts with the word 'Next' or 'Then', in any case."""
    return _NEXT_THEN.match(sentence.lstrip()) is not None


@dataclass(frozen=True)
class DiversityReport:
    """The spread of sentence skeletons over a group of completions."""

    records: int
    malformed: int  # completions without a well-formed think block, skipped
    sentences: int
    distinct_skeletons: int
    top10_share: float  # share of sentences whose skeleton is one of the 10 most common
    openings: int  # distinct skeletons of a think block's first sentence
    closings: int  # distinct skeletons of its last sentence
    next_then_first_steps: int  # records whose second line opens with "Next"/"Then"
    top_skeletons: tuple[tuple[str, float], ...]  # the most common skeletons with their share of sentences

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict; top skeletons as [skeleton, share] pairs."""
        data = asdict(self)
        data["top_skeletons"] = [list(pair) for pair in self.top_skeletons]
        return data


@dataclass(frozen=True)
class _Facts:
    """What one think block contributes to a report."""

    skeletons: tuple[str, ...]
    opening: str | None
    closing: str | None
    next_then: bool


@dataclass
class _Tally:
    """Running counts for one group; several groups can take the same facts, so each block is read once."""

    records: int = 0
    malformed: int = 0
    skeletons: Counter[str] = field(default_factory=Counter)
    openings: set[str] = field(default_factory=set)
    closings: set[str] = field(default_factory=set)
    next_then: int = 0

    def add(self, facts: _Facts | None) -> None:
        if facts is None:
            self.malformed += 1
            return
        self.records += 1
        self.skeletons.update(facts.skeletons)
        if facts.opening is not None:
            self.openings.add(facts.opening)
        if facts.closing is not None:
            self.closings.add(facts.closing)
        self.next_then += facts.next_then

    def report(self, top: int) -> DiversityReport:
        total = sum(self.skeletons.values())
        # Ties break by skeleton text so the listing is the same in every process.
        ranked = sorted(self.skeletons.items(), key=lambda item: (-item[1], item[0]))
        covered = sum(count for _, count in ranked[:TOP_SHARE_OF])
        return DiversityReport(
            records=self.records,
            malformed=self.malformed,
            sentences=total,
            distinct_skeletons=len(ranked),
            top10_share=covered / total if total else 0.0,
            openings=len(self.openings),
            closings=len(self.closings),
            next_then_first_steps=self.next_then,
            top_skeletons=tuple((text, count / total) for text, count in ranked[:top]),
        )


def _facts(completion: str) -> _Facts | None:
    """Skeletons, opening, closing and first-step kind of one completion; None when it is malformed."""
    think = think_block(completion)
    if think is None:
        return None
    # Splitting the masked block gives the skeletons of `sentences(think)`: masking keeps every sentence end.
    paragraphs = [split_sentences(line) for line in lines(_mask(think))]
    skeletons = tuple(sentence for paragraph in paragraphs for sentence in paragraph)
    # The first line restates the problem; the second line's first sentence is the first step of the search
    # (its skeleton starts with the same word).
    first_step = paragraphs[1][0] if len(paragraphs) > 1 and paragraphs[1] else None
    return _Facts(
        skeletons=skeletons,
        opening=skeletons[0] if skeletons else None,
        closing=skeletons[-1] if skeletons else None,
        next_then=first_step is not None and is_next_then(first_step),
    )


def measure(completions: Iterable[str], *, top: int = TOP_SHARE_OF) -> DiversityReport:
    """The diversity report of some completions, listing the `top` most common skeletons."""
    tally = _Tally()
    for completion in completions:
        tally.add(_facts(completion))
    return tally.report(top)


def group_reports(pairs: Iterable[tuple[str, str]], *, top: int = TOP_SHARE_OF) -> dict[str, DiversityReport]:
    """One report per group of (group, completion) pairs, groups sorted, plus OVERALL last."""
    tallies: dict[str, _Tally] = {}
    overall = _Tally()
    for group, completion in pairs:
        found = _facts(completion)
        tallies.setdefault(group, _Tally()).add(found)
        overall.add(found)
    reports = {group: tallies[group].report(top) for group in sorted(tallies)}
    reports[OVERALL] = overall.report(top)
    return reports


def group_of(record: Record) -> str:
    """A record's group: its condition, and its control (if any) after a slash: a control is other prose."""
    return record.condition if record.control is None else f"{record.condition}/{record.control}"


def by_condition(records: Iterable[Record], *, top: int = TOP_SHARE_OF) -> dict[str, DiversityReport]:
    """One report per condition (controls apart) plus OVERALL."""
    return group_reports(((group_of(r), r.completion) for r in records), top=top)
