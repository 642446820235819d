"""The offline rule labeler for general math prose: `curate classify --judge rules`.

Why it is built this way: CPython's regex engine tries a pattern at every character, ~20-50 ns a character
per cue family, so scanning a 9 KB document with 30 families would cost ~10 ms. Instead:

1. The document is lower-cased and split once into a set of word tokens (bytes `translate` + `split`).
2. Each cue family (`cogbeh.curate.cues`) names anchors, words or symbols one of which lies inside every
   match; a family none of whose anchors the document contains is skipped.
3. For the anchors present, `str.find` gives their positions and the family's regex is tried only at the
   `back` starts before each (a match must contain an anchor), and no start is tried twice.

A behavior is counted once per sentence that shows it (the paper's judge counts distinct instances, and one
sentence often carries two cues of one move: "wait, that's wrong"). Problem and solution are flags: the first
match of their cues decides, and a solution needs a problem. No pattern nests quantifiers, so the time is
linear in the document length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.cues import BEHAVIOR_CUES, PROBLEM, SOLUTION, CueFamily, compile_pattern
from cogbeh.curate.labels import DocumentLabels, LabelError

# The end of a sentence or a paragraph: two matches separated by one are distinct instances. A period inside a
# number ("3.5") is not followed by a blank, so it does not split.
_BOUNDARY = re.compile(r"[.!?;](?=\s)|\n[^\S\n]*\n")
# Bytes that end a word token: every ASCII byte but letters, digits and the apostrophe. Bytes of non-ASCII
# characters stay, so a curly apostrophe stays inside its word ("doesn’t").
_WORD_CHARS = b"abcdefghijklmnopqrstuvwxyz0123456789'"
_SPLIT_TABLE = bytes(b if b >= 0x80 or b in _WORD_CHARS else 0x20 for b in range(256))


def _is_word(anchor: str) -> bool:
    return all(c.isalnum() or c in "'’" for c in anchor)


@dataclass(frozen=True)
class _Family:
    """A compiled cue family: its regex, its word anchors (token bytes -> search string), its symbols."""

    cue: CueFamily
    regex: re.Pattern[str]
    window: re.Pattern[str]
    words: dict[bytes, tuple[str, ...]]
    symbols: tuple[str, ...]

    @classmethod
    def build(cls, cue: CueFamily) -> _Family:
        words: dict[bytes, tuple[str, ...]] = {}
        for anchor in cue.anchors:
            if _is_word(anchor):
                # Both apostrophes: a token "doesn't" is searched as written and as "doesn’t".
                for form in {anchor.replace("’", "'"), anchor.replace("'", "’")}:
                    words[form.encode()] = (form,)
        symbols = tuple(a for a in cue.anchors if not _is_word(a))
        pattern = compile_pattern(cue.pattern)
        # `window`: the pattern at any start up to `back` characters after where the match is tried.
        window = re.compile(f"(?s:.){{0,{cue.back}}}?({pattern})")
        return cls(cue, re.compile(pattern), window, words, symbols)


def _compiled(families: tuple[CueFamily, ...]) -> tuple[_Family, ...]:
    return tuple(_Family.build(f) for f in families)


#: Compiled cue families per behavior, then for the problem and solution flags.
FAMILIES: dict[str, tuple[_Family, ...]] = {b: _compiled(BEHAVIOR_CUES[b]) for b in BEHAVIORS}
PROBLEM_FAMILIES = _compiled(PROBLEM)
SOLUTION_FAMILIES = _compiled(SOLUTION)


def _share_stems(groups: list[tuple[_Family, ...]]) -> None:
    """Search each word anchor by the shortest anchor (4+ characters) it starts with: one `find` pass for
    "check" also finds "checked", "checking" and "checks" (the window starts at the same place)."""
    words = {form for families in groups for f in families for forms in f.words.values() for form in forms}
    stems = sorted((w for w in words if len(w) >= 4), key=len)
    for families in groups:
        for f in families:
            for key, (form,) in list(f.words.items()):
                f.words[key] = (next((stem for stem in stems if form.startswith(stem)), form),)


_share_stems([*FAMILIES.values(), PROBLEM_FAMILIES, SOLUTION_FAMILIES])


@dataclass(frozen=True)
class CueHit:
    """Where a cue family matched (offsets into the text), for `explain`: tests, debugging, docs."""

    behavior: str
    family: str
    start: int
    end: int
    text: str


def tokens(low: str) -> set[bytes]:
    """The word tokens of a lower-cased text (UTF-8 bytes)."""
    return set(low.encode("utf-8", "surrogatepass").translate(_SPLIT_TABLE).split())


def _find_all(low: str, needle: str, cache: dict[tuple[str, bool], list[int]], *, word: bool) -> list[int]:
    """Every position of `needle` in `low`, memoised per document (families share anchors: check, back).

    A `word` anchor is kept only where a word starts: a match holds its anchor as a whole token (or a stem's
    longer form), so "end" inside "depend" or "off" inside "coefficient" would only cost a failed regex try.
    """
    key = (needle, word)
    found = cache.get(key)
    if found is None:
        found = []
        i = low.find(needle)
        while i >= 0:
            if not word or i == 0 or not (low[i - 1].isalnum() or low[i - 1] in "'’_"):
                found.append(i)
            i = low.find(needle, i + 1)
        cache[key] = found
    return found


def _anchor_positions(family: _Family, low: str, words: set[bytes],
                      cache: dict[tuple[str, bool], list[int]]) -> list[int]:
    """Sorted positions of the family's anchors that the document contains; empty when it contains none."""
    needles = [(s, True) for s in {s for w, forms in family.words.items() if w in words for s in forms}]
    needles += [(s, False) for s in family.symbols if s in low]
    if len(needles) == 1:
        return _find_all(low, needles[0][0], cache, word=needles[0][1])
    return sorted({p for needle, word in needles for p in _find_all(low, needle, cache, word=word)})


def family_spans(family: _Family, low: str, words: set[bytes] | None = None,
                 cache: dict[tuple[str, bool], list[int]] | None = None) -> list[tuple[int, int]]:
    """(start, end) of the matches of one family, in order, found by trying the pattern only near its anchors.

    For each anchor position p, `window` tries the pattern at the starts p - back .. p (a lazy prefix inside
    one C call); a start is never tried twice (`floor`), so the work is linear even on "? ? ? ..." input.
    """
    words = tokens(low) if words is None else words
    cache = {} if cache is None else cache
    back = family.cue.back
    spans: list[tuple[int, int]] = []
    floor = 0  # every start below this has been tried
    for p in _anchor_positions(family, low, words, cache):
        if p < floor:
            continue  # tried already, or inside the last match: the same instance
        start = max(floor, p - back)
        m = family.window.match(low, start)
        while m is not None and m.end(1) <= p:
            spans.append(m.span(1))  # a match before this anchor (it holds another anchor): keep it, go on
            m = family.window.match(low, m.end(1))
        if m is None:
            floor = start + back + 1
        else:
            spans.append(m.span(1))
            floor = m.end(1)
    return spans


def _count(families: tuple[_Family, ...], low: str, words: set[bytes], cache: dict[tuple[str, bool], list[int]]) -> int:
    """Distinct sentences with at least one match of any family (linear: each gap is searched once)."""
    spans = sorted(span for family in families for span in family_spans(family, low, words, cache))
    count = 0
    last_end = -1
    for start, end in spans:
        if last_end < 0 or (start >= last_end and _BOUNDARY.search(low, last_end, start) is not None):
            count += 1
        last_end = max(last_end, end)
    return count


def _present(families: tuple[_Family, ...], low: str, words: set[bytes], cache: dict[tuple[str, bool], list[int]]) -> bool:
    """Any match of any family; stops at the first (each start is tried at most once per family)."""
    for family in families:
        floor = 0
        for p in _anchor_positions(family, low, words, cache):
            if p < floor:
                continue
            start = max(floor, p - family.cue.back)
            if family.window.match(low, start) is not None:
                return True
            floor = start + family.cue.back + 1
    return False


def label_text(text: str) -> DocumentLabels:
    """Behavior counts and problem/solution flags of one document."""
    low = text.lower()
    words = tokens(low)
    cache: dict[tuple[str, bool], list[int]] = {}
    counts = {b: _count(FAMILIES[b], low, words, cache) for b in BEHAVIORS}
    # A solution needs a problem to solve: without one, "therefore" and "=" chains are just exposition.
    has_problem = _present(PROBLEM_FAMILIES, low, words, cache)
    return DocumentLabels(counts=counts, contains_problem=has_problem,
                          contains_solution=has_problem and _present(SOLUTION_FAMILIES, low, words, cache))


def explain(text: str) -> list[CueHit]:
    """Every cue match in `text` (a full scan, slow: for tests and debugging), behavior by behavior, then the
    problem and solution cues."""
    low = text.lower()
    groups = [*FAMILIES.items(), ("contains_problem", PROBLEM_FAMILIES),
              ("contains_solution", SOLUTION_FAMILIES)]
    return [CueHit(behavior, f.cue.name, m.start(), m.end(), text[m.start():m.end()])
            for behavior, families in groups for f in families for m in f.regex.finditer(low)]


class RuleLabeler:
    """The `rules` judge: offline, deterministic, linear time; a LabelError for anything but a string."""

    name = "rules"

    def label(self, texts: Sequence[str]) -> list[DocumentLabels | LabelError]:
        """One result per text, in order."""
        results: list[DocumentLabels | LabelError] = []
        for text in texts:
            if isinstance(text, str):
                results.append(label_text(text))
            else:
                results.append(LabelError(f"not a text: {type(text).__name__}"))
        return results
