"""Read a trace's text back into what it claims: moves, narrated tables, returns, plans, checks, conclusions.

The reader is written against what a sentence *says*, not against our templates' exact wordings: a move is an
equation `a op b = c`; a table is a list of numbers after words like "leaving" or "back to"; a plan is a value,
the numbers it is built from, and either a property (subgoal) or an inverse equation (backward step); a check
compares two numbers. Every regex is bounded and anchored on short cue words, so reading is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNICODE = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-"})
_LIST = r"\d+(?:, \d+)*,? and \d+"
_NUMBER = re.compile(r"(?<![\d.])\d+(?!\d|\.\d)")
#: A simple move "a op b = c": not the tail of a longer expression ("25 * 3 - 4 = 71", "(25 - 3) * 4 = 88"),
#: not a decimal ("75 / 4 = 18.75"). Longer expressions are statements about a whole answer, not moves.
_EQUATION = re.compile(
    r"(?<![\d.)])(?<![+\-*/] )(?<![+\-*/])(\d+) ?([+\-*/]) ?(\d+) ?= ?(\d+)(?!\d|\.\d| ?[+\-*/])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?✓])\s+(?=[A-Z0-9(✓])")

_STATE = re.compile(
    rf"(?:leaving|that leaves|which leaves|now we have|the numbers are now|giving|gives us|on the table(?: now)?:|remaining:"
    rf"|we are left with|so we have|the numbers left are|the table holds|left:|we have)\s+({_LIST})"
    rf"|({_LIST}) (?:remain|are left)\b",
    re.IGNORECASE,
)
_RETURN = re.compile(
    rf"(?:back(?: up)? to|returning to|return to|revert to|start over from|starting again from|restart with"
    rf"|start again from|again with)\s+(?:the (?:start|beginning|original numbers|original)[:,]?\s+)?({_LIST})",
    re.IGNORECASE,
)
_START_CLAIM = re.compile(r"\b(?:start|beginning|original|restart)\b", re.IGNORECASE)
_DROP = re.compile(
    r"(?:set|put|leave) (\d+) aside|\bdrop (\d+)|forget about (\d+)|give up on (\d+)|let go of (\d+)"
    r"|dropping the plan for (\d+)",
    re.IGNORECASE,
)
_NEED = re.compile(
    rf"(?<![\d=] )({_LIST}) (?:must|has to|have to|would have to|should|needs to) (?:make|give|produce|yield|come to) (\d+)"
    rf"|\bneed (\d+) (?:from|out of) ({_LIST})",
    re.IGNORECASE,
)
_PROPERTY = re.compile(
    r"(\d+) (is a factor of|is a divisor of|goes evenly into|is a multiple of|is a clean multiple of|is a whole multiple of"
    r"|is close to|is near|is not far from) (\d+)",
    re.IGNORECASE,
)
_POOL = re.compile(rf"(?:from|out of|using|with) ({_LIST})", re.IGNORECASE)
_SETTLE = re.compile(
    r"(?:carry on|make do|continue|going on|go on) with (\d+) (?:in place of|instead of|rather than) (\d+)"
    r"|\buse (\d+) (?:in place of|instead of|rather than) (\d+)",
    re.IGNORECASE,
)
_LAST_CLAIM = re.compile(
    r"\b(?:finally|last step|one step|last two|two numbers left|to finish|final move|one move remains"
    r"|last pair|last,|one number is left|every number is used|using up the numbers|uses both)",
    re.IGNORECASE,
)
_TARGET_WORD = re.compile(r"\bthe target\b", re.IGNORECASE)
_CLOSEST = re.compile(r"\b(?:closest|nearest|best so far)\b", re.IGNORECASE)
_OPENER = re.compile(r"^(?:next|then)\b", re.IGNORECASE)

#: Checks: (pattern, value group, goal group, gap group, relation). Relation: "eq", "ne", "high", "low".
_CHECKS: list[tuple[re.Pattern[str], str | None, str, str | None, str]] = [
    (re.compile(p, re.IGNORECASE), v, g, d, rel)
    for p, v, g, d, rel in [
        (r"(?<![+\-*/)] )(?<![+\-*/)\d.])(?P<v>\d+) = (?P<g>\d+)(?! ?[+\-*/=\d]|\.\d)", "v", "g", None, "eq"),
        (r"(?P<v>\d+) ≠ (?P<g>\d+)", "v", "g", None, "ne"),
        (r"(?P<v>\d+) (?:matches|equals|is precisely|is exactly|hits) (?:the target )?(?P<g>\d+)", "v", "g", None, "eq"),
        (r"that is exactly (?:the target )?(?P<g>\d+)", None, "g", None, "eq"),
        (r"that gives (?P<v>\d+), not (?P<g>\d+)", "v", "g", None, "ne"),
        (r"(?P<v>\d+), not (?P<g>\d+)", "v", "g", None, "ne"),
        (r"(?P<v>\d+) (?:is not|does not equal|isn't) (?:the target )?(?P<g>\d+)", "v", "g", None, "ne"),
        (r"(?P<v>\d+) misses (?:the target )?(?P<g>\d+) by (?P<d>\d+)", "v", "g", "d", "ne"),
        (r"(?P<v>\d+) vs (?P<g>\d+), off by (?P<d>\d+)", "v", "g", "d", "ne"),
        (r"(?P<v>\d+) = (?P<g>\d+), as (?:required|planned)", "v", "g", None, "eq"),
        (r"(?P<v>\d+) is (?P<d>\d+) too high for (?P<g>\d+)", "v", "g", "d", "high"),
        (r"(?P<v>\d+) is (?P<d>\d+) too low for (?P<g>\d+)", "v", "g", "d", "low"),
        (r"checking against (?P<g>\d+): (?P<v>\d+) is off by (?P<d>\d+)", "v", "g", "d", "ne"),
        (r"(?P<v>\d+) instead of (?P<g>\d+); no match", "v", "g", None, "ne"),
        (r"(?P<v>\d+) overshoots (?P<g>\d+) by (?P<d>\d+)", "v", "g", "d", "high"),
        (r"(?P<v>\d+) falls (?P<d>\d+) short of (?P<g>\d+)", "v", "g", "d", "low"),
    ]
]


def numbers(text: str) -> list[int]:
    """The whole numbers in `text`, in order (digit runs are capped by the caller's length checks)."""
    return [int(n) for n in _NUMBER.findall(text) if len(n) <= 12]


def parse_list(text: str) -> tuple[int, ...]:
    """'4, 13 and 20' -> (4, 13, 20)."""
    return tuple(numbers(text))


@dataclass(frozen=True)
class Said:
    """One claim a sentence makes. `kind` names it; the other fields hold what was read (None: not said)."""

    kind: str  # intro, move, state, return, drop, backward, subgoal, check, settle, conclude, other
    sentence: int  # index of the sentence in the think block
    text: str
    equation: tuple[int, str, int, int] | None = None
    values: tuple[int, ...] | None = None  # a narrated list: the table, a return state, a plan's pool
    value: int | None = None  # a plan's value, a dropped plan, a checked value, a settled value
    goal: int | None = None  # a property's reference value, a checked goal, a settled plan's value
    relation: str | None = None  # property (factor, multiple, close) or check relation (eq, ne, high, low)
    gap: int | None = None
    claims: frozenset[str] = field(default_factory=frozenset)  # last, start, target, closest, opener


def sentences(think: str) -> list[tuple[int, str]]:
    """(line number, sentence) for every sentence of the think block."""
    found = []
    for line_number, line in enumerate(line for line in think.strip().split("\n") if line.strip()):
        found += [(line_number, s.strip()) for s in _SENTENCE_END.split(line.strip()) if s.strip()]
    return found


def read(think: str, *, layout: bool = True) -> list[Said]:
    """Everything the think block claims, in order. With `layout` (our traces), the first line restates the
    problem and the last line concludes; other text is read sentence by sentence throughout."""
    said: list[Said] = []
    parts = sentences(think.translate(_UNICODE))
    last_line = parts[-1][0] if parts else 0
    intro = " ".join(text for line, text in parts if line == 0) if layout else ""
    if intro:
        said.append(Said("intro", 0, intro, values=tuple(numbers(intro))))
    for index, (line, text) in enumerate(parts):
        if layout and line == 0:
            continue
        elif layout and line == last_line and line > 0:
            said.append(_conclusion(index, text))
        else:
            said += _read_sentence(index, text)
    return said


def _conclusion(index: int, text: str) -> Said:
    claims = {"closest"} if _CLOSEST.search(text) else set()
    return Said("conclude", index, text, claims=frozenset(claims))


def _read_sentence(index: int, text: str) -> list[Said]:
    for reader in (_as_drop, _as_return, _as_backward, _as_subgoal, _as_settle, _as_move, _as_state, _as_check):
        found = reader(index, text)
        if found:
            return found
    return [Said("other", index, text, values=tuple(numbers(text)) or None)]


def _first(match: re.Match[str]) -> int:
    return int(next(g for g in match.groups() if g is not None))


def _as_drop(index: int, text: str) -> list[Said]:
    match = _DROP.search(text)
    if match is None:
        return []
    said = [Said("drop", index, text, value=_first(match))]
    back = _as_return(index, text[match.end():])
    return said + back


def _as_return(index: int, text: str) -> list[Said]:
    match = _RETURN.search(text)
    if match is None:
        return []
    claims = {"start"} if _START_CLAIM.search(text[: match.end()]) else set()
    said = [Said("return", index, text, values=parse_list(match.group(1)), claims=frozenset(claims))]
    rest = text[match.end():]  # "Again with 3, 4 and 6: 4 * 6 = 24, ...": the move from the state returned to
    return said + (_read_sentence(index, rest) if _EQUATION.search(rest) else [])


def _as_backward(index: int, text: str) -> list[Said]:
    need = _NEED.search(text)
    equations = _EQUATION.findall(text)
    if need is None or len(equations) != 1:
        return []
    pool, value = (need.group(1), need.group(2)) if need.group(1) else (need.group(4), need.group(3))
    a, op, b, c = equations[0]
    return [Said("backward", index, text, equation=(int(a), op, int(b), int(c)), values=parse_list(pool),
                 value=int(value))]


def _as_subgoal(index: int, text: str) -> list[Said]:
    prop = _PROPERTY.search(text)
    if prop is None or _EQUATION.search(text):
        return []
    value, phrase, goal = int(prop.group(1)), prop.group(2).lower(), int(prop.group(3))
    if phrase in ("is a factor of", "is a divisor of", "goes evenly into"):
        relation = "factor"
    else:
        relation = "multiple" if "multiple" in phrase else "close"
    pool = _POOL.search(text)
    return [Said("subgoal", index, text, values=parse_list(pool.group(1)) if pool else None, value=value,
                 goal=goal, relation=relation)]


def _as_settle(index: int, text: str) -> list[Said]:
    match = _SETTLE.search(text)
    if match is None:
        return []
    instead, planned = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return [Said("settle", index, text, value=int(instead), goal=int(planned))]


def _as_move(index: int, text: str) -> list[Said]:
    equations = list(_EQUATION.finditer(text))
    if not equations:
        return []
    claims = set()
    if _LAST_CLAIM.search(text):
        claims.add("last")
    if _OPENER.search(text):
        claims.add("opener")
    said = []
    for match in equations:
        a, op, b, c = match.groups()
        said.append(Said("move", index, text, equation=(int(a), op, int(b), int(c)), claims=frozenset(claims)))
    return said + _as_state(index, text)  # "3 * 2 = 6, leaving 4 and 6": the table the moves leave


def _as_state(index: int, text: str) -> list[Said]:
    state = _STATE.search(text)
    if state is None:
        return []
    return [Said("state", index, text, values=parse_list(state.group(1) or state.group(2)))]


def _as_check(index: int, text: str) -> list[Said]:
    for pattern, v, g, d, relation in _CHECKS:
        match = pattern.search(text)
        if match is None:
            continue
        claims = {"target"} if _TARGET_WORD.search(text) else set()
        return [Said("check", index, text, value=int(match.group(v)) if v else None, goal=int(match.group(g)),
                     gap=int(match.group(d)) if d else None, relation=relation, claims=frozenset(claims))]
    return []
