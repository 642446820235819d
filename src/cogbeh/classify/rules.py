"""Rule-based behavior counts: cue phrases found per sentence, adjacent cues merged into one occurrence.

The text (the think block, see `focus`) is cut into segments: sentences and lines; a check mark ends one
too. A cue belongs to the segment of its last character. Per behavior, cue segments are grouped into
occurrences: adjacent cue segments are one occurrence when one of them carries no number ("Check: 27 = 27. ✓"
is one, "30 is too high. 20 is too low." is two), and an announcement ("let me verify", "working backwards")
is absorbed by the cue it announces when that follows within two segments. Units, per behavior:

* verification -- one per result compared with the goal: (in)equality with the target or a subgoal ("41 is
  not 42", "14 ≠ 24", "that's our target"), too high/low, off by, a check or cross mark, "this works". A
  computation that happens to hit the target, or "the answer is 24", is not one; "let me check" counts only
  next to a number.
* backtracking -- one per abandoned path: a run of consecutive segments that signal failure or a return
  ("Hmm, that doesn't work. Going back to the start." is one). Switch words ("try another combination",
  "instead") count only after the first arithmetic step, so a plan that lists options is none; trying a new
  combination without saying the last one failed ("Let me try 5 * 4 = 20") is none either.
* subgoal_setting -- one per distinct intermediate value named as something to reach ("aim for 12 first",
  "if I can make 8", "an intermediate goal of 20"); naming the same value again later is the same subgoal,
  and the target itself (as the text states it) is no subgoal.
* backward_chaining -- one per backward step: a goal turned into what the remaining numbers must make ("to
  get 24 with a 2 left, I need 12", "we would need 19 from the rest"), or an announcement of backward work
  with no step after it. "I need to use all numbers" or "I need to make 24 from 3, 4, 6" (the target
  itself) is none.

Speed: one tokenisation tells which anchor words occur; each cue's regex is then tried only *at* its
anchors' positions (`pattern.match`), never scanned over the text, because Python's regex engine would
otherwise try every alternative at every character. Every pattern is bounded, so time stays linear in the
text length.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS
from cogbeh.classify import phrases

_MARKS = "≠✓✔✅✗✘❌☑"
#: Words (apostrophes kept) and marks: what anchor words are looked up among.
_TOKEN = re.compile(rf"[a-z']+|[{_MARKS}]")
_BLANKS = re.compile(r"[ \t\u00a0]{2,}|[\t\u00a0]")
#: Segment ends: sentence punctuation before a blank, a line break, or a check mark, with the blanks after
#: it (so a blank line between paragraphs is no segment of its own and does not break adjacency). It starts
#: with one character class so that the regex engine skips ahead in C.
_BOUNDARY = re.compile(r"[.!?…\n✓✔✅✗✘❌☑](?:(?<=[.!?…])(?=\s|$)|(?<![.!?…]))\s*")
_DIGIT = re.compile(r"\d")
#: An arithmetic step ("25 - 3", "8×3"): the first one marks where the search has started.
_ATTEMPT = re.compile(r"\d ?[-+*/×÷−x] ?\(? ?\d")
_TARGET_STATED = re.compile(phrases.TARGET_STATED)
_TARGET_OPENING = re.compile(phrases.TARGET_OPENING)
#: How far into the text a restated problem ("we need to make 24 ...") is looked for.
OPENING = 300


@dataclass(frozen=True)
class _Kind:
    """What a cue table signals and how its matches count."""

    behavior: str
    announce: bool = False  # only announces the behavior ("let me verify")
    any_value: bool = True  # a value it names counts even when it equals the target
    soft: bool = False  # counts only after the first arithmetic step


_Cue = tuple[_Kind, re.Pattern[str]]
_TABLES: list[tuple[list[phrases.Cue], _Kind]] = [
    (phrases.VERIFY_RESULT, _Kind("verification")),
    (phrases.VERIFY_ANNOUNCE, _Kind("verification", announce=True)),
    (phrases.BACKTRACK_STRONG, _Kind("backtracking")),
    (phrases.BACKTRACK_SOFT, _Kind("backtracking", soft=True)),
    (phrases.SUBGOAL_NAMED, _Kind("subgoal_setting")),
    (phrases.SUBGOAL, _Kind("subgoal_setting", any_value=False)),
    (phrases.BACKWARD_ANNOUNCE, _Kind("backward_chaining", announce=True)),
    (phrases.BACKWARD_NEED, _Kind("backward_chaining", any_value=False)),
    (phrases.BACKWARD_FROM_GOAL, _Kind("backward_chaining")),
]


def _index() -> dict[str, list[_Cue]]:
    """Anchor -> the cues tried at its occurrences."""
    index: dict[str, list[_Cue]] = {}
    for table, kind in _TABLES:
        for anchors, pattern in table:
            cue = (kind, re.compile(pattern, re.MULTILINE))
            for anchor in anchors.split():
                index.setdefault(anchor, []).append(cue)
    return index


_BY_ANCHOR = _index()
#: Anchors looked up among the tokens, and the few (like "!=" or "?") looked up in the text itself.
_ANCHOR_WORDS = frozenset(a for a in _BY_ANCHOR if _TOKEN.fullmatch(a))
_ANCHOR_SUBSTRINGS = tuple(a for a in _BY_ANCHOR if a not in _ANCHOR_WORDS)

#: Segment -> (values named there, whether every cue there only announces).
Hits = dict[int, tuple[set[str], bool]]


def focus(text: str) -> str:
    """The part of a completion that is counted: the first <think> block if any, else the whole text."""
    start = text.find("<think>")
    begin = start + len("<think>") if start >= 0 else 0
    end = text.find("</think>", begin)
    if end < 0 and start >= 0:
        end = text.find("<answer>", begin)  # a think block cut off before its closing tag
    if start < 0 and end < 0:
        return text
    return text[begin : end if end >= 0 else len(text)]


class _Text:
    """A normalised text, its segment boundaries, and every cue match in it grouped by behavior."""

    __slots__ = ("text", "ends", "found")

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [m.end() for m in _BOUNDARY.finditer(text)]
        self.found: dict[str, list[tuple[_Kind, re.Match[str]]]] = {b: [] for b in BEHAVIORS}
        anchors = [
            *_ANCHOR_WORDS.intersection(_TOKEN.findall(text)),
            *(a for a in _ANCHOR_SUBSTRINGS if a in text),
        ]
        for anchor in anchors:
            cues = _BY_ANCHOR[anchor]
            position = text.find(anchor)
            while position >= 0:  # also inside longer words: the cue's regex decides
                for kind, pattern in cues:
                    match = pattern.match(text, position)
                    if match is not None:
                        self.found[kind.behavior].append((kind, match))
                position = text.find(anchor, position + 1)

    def index(self, position: int) -> int:
        """The segment holding `position`."""
        return bisect_right(self.ends, position)

    def segment_of(self, match: re.Match[str]) -> int:
        """The segment a cue belongs to: that of its last character."""
        return self.index(max(match.start(), match.end() - 1))

    def span(self, k: int) -> tuple[int, int]:
        """Start and end of segment `k` (empty past the end)."""
        start = self.ends[k - 1] if 0 < k <= len(self.ends) else (0 if k == 0 else len(self.text))
        return start, self.ends[k] if k < len(self.ends) else len(self.text)

    def has_digit(self, k: int) -> bool:
        """Whether segment `k` contains a number."""
        start, end = self.span(k)
        return _DIGIT.search(self.text, start, end) is not None


def _value(match: re.Match[str]) -> str | None:
    for group in match.groups():
        if group is not None:
            return group.lstrip("0") or "0"  # compared as text: no int() on a 10,000-digit run
    return None


def _target(text: _Text) -> str | None:
    """The problem's target as the text states it, if it does."""
    for word in ("target", "goal"):
        position = text.text.find(word)
        while position >= 0:
            match = _TARGET_STATED.match(text.text, position)
            if match:
                return _value(match)
            position = text.text.find(word, position + 1)
    start = len(text.text) - len(text.text.lstrip())
    # Only the restated problem: its first line. Further on, "the rest would have to make 4" is a backward
    # step, not the problem's target.
    line_end = text.text.find("\n", start)
    end = min(start + OPENING, line_end if line_end >= 0 else len(text.text))
    match = _TARGET_OPENING.search(text.text, start, end)
    return _value(match) if match else None


def _hits(text: _Text, behavior: str, target: str | None) -> Hits:
    found: Hits = {}
    for kind, match in text.found[behavior]:
        value = _value(match)
        if value is not None and value == target and not kind.any_value:
            continue  # the target itself is not an intermediate value
        k = text.segment_of(match)
        values, only_announce = found.get(k, (set(), True))
        if value is not None:
            values.add(value)
        found[k] = (values, only_announce and kind.announce)
    return found


def _episodes(text: _Text, hits: Hits) -> list[list[int]]:
    """Group cue segments into occurrences (see the module docstring)."""
    episodes: list[list[int]] = []
    announced = False  # whether every segment of the current episode only announces
    for k in sorted(hits):
        if episodes:
            last = episodes[-1][-1]
            digitless = not text.has_digit(k) or not text.has_digit(last)
            if (k - last == 1 and (digitless or announced)) or (k - last == 2 and announced):
                episodes[-1].append(k)
                announced = announced and hits[k][1]
                continue
        episodes.append([k])
        announced = hits[k][1]
    return episodes


def count_verification(text: _Text, target: str | None) -> int:
    """Checked results: each result compared with the goal is one, however many cue words it carries."""
    hits = _hits(text, "verification", target)
    total = 0
    for episode in _episodes(text, hits):
        announced = all(hits[k][1] for k in episode)
        # "Let me check whether division helps" checks nothing: an announcement needs a number beside it.
        total += not announced or any(text.has_digit(k) or text.has_digit(k + 1) for k in episode)
    return total


def count_backtracking(text: _Text) -> int:
    """Abandoned paths: a run of consecutive cue segments is one, since no new path was tried in between."""
    attempt = _ATTEMPT.search(text.text)
    # "Let's try different combinations" before any arithmetic is a plan, not a return from a failed path.
    first_step = attempt.start() if attempt is not None else len(text.text)
    found = {
        text.segment_of(m)
        for kind, m in text.found["backtracking"]
        if not kind.soft or m.start() >= first_step
    }
    runs, previous = 0, -2
    for k in sorted(found):
        runs += k != previous + 1
        previous = k
    return runs


def count_subgoals(text: _Text, target: str | None) -> int:
    """Distinct intermediate targets: a value named again later is the same subgoal."""
    hits = _hits(text, "subgoal_setting", target)
    seen: set[str] = set()
    total = 0
    for episode in _episodes(text, hits):
        values = set().union(*(hits[k][0] for k in episode))
        total += not values or not values <= seen
        seen |= values
    return total


def count_backward(text: _Text, target: str | None) -> int:
    """Backward steps: each goal turned into what the remaining numbers must make is one."""
    return len(_episodes(text, _hits(text, "backward_chaining", target)))


def count(text: str) -> dict[str, int]:
    """The four counts for one completion, keys in BEHAVIORS order."""
    normal = focus(text).lower().replace("\u2019", "'")
    if "  " in normal or "\t" in normal or "\u00a0" in normal:
        normal = _BLANKS.sub(" ", normal)  # the phrases are written with single spaces
    prepared = _Text(normal)
    target = _target(prepared)
    counts = {
        "backtracking": count_backtracking(prepared),
        "backward_chaining": count_backward(prepared, target),
        "subgoal_setting": count_subgoals(prepared, target),
        "verification": count_verification(prepared, target),
    }
    return {b: counts[b] for b in BEHAVIORS}
