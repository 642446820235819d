"""Rich and minimal sets from labelled documents, each filled to the same token budget in a seeded order.

A document is eligible when it was labelled (no `label_error`) and shows both a problem and a solution. It is
*rich* when a rule holds on its counts (default: any behavior count > 0) and *minimal* when every count is zero.
Each set is filled greedily in a seeded order (a hash of seed and id, so the input's file order does not matter):
a document that would overshoot the budget is skipped, and filling stops once the budget is all but reached.
"""

from __future__ import annotations

import bisect
import hashlib
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cogbeh.behaviors import BEHAVIORS
from cogbeh.curate.labels import COUNT_FIELDS

SetName = Literal["rich", "minimal"]
SETS: tuple[SetName, ...] = ("rich", "minimal")
#: A set counts as full once this share of its budget is reached (well inside the promised 1%).
FULL = 0.999
#: Documents tokenized per batch while filling (the Rust tokenizer encodes a batch in parallel).
_BATCH = 256
_SUFFIX = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "b": 1_000_000_000}
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, "=": operator.eq,
    ">": operator.gt, "<": operator.lt,
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|==|!=|=|>|<)\s*(\d{1,9})\s*$")


def parse_budget(text: str | int) -> int:
    """'8.3M', '500k', '12000' (also 1.2G/B) -> a positive token count; ValueError says the accepted forms."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGbB]?)\s*", str(text))
    value = float(match.group(1)) * _SUFFIX.get(match.group(2).lower(), 1) if match else 0
    if not match or int(round(value)) < 1:
        raise ValueError(f"--tokens takes a positive count like 12000, 500k or 8.3M, got {text!r}")
    return int(round(value))


@dataclass(frozen=True)
class Rule:
    """A conjunction of `behavior OP N` conditions on a document's counts (`backtracking>0,verification>=2`)."""

    conditions: tuple[tuple[str, str, int], ...]

    def matches(self, counts: dict[str, int]) -> bool:
        """Whether every condition holds on `counts` (behavior -> count)."""
        return all(_OPS[op](counts[name], value) for name, op, value in self.conditions)

    def __str__(self) -> str:
        return ",".join(f"{name}{op}{value}" for name, op, value in self.conditions)


#: The default rich rule: any behavior shown at least once (an OR, which the rule grammar does not need).
ANY_BEHAVIOR = "any behavior > 0"


def parse_rule(text: str) -> Rule:
    """Parse `NAME OP N[,NAME OP N...]` (OP one of > >= < <= == != =); never evaluated as code.

    NAME is a behavior (its `_count` column name is accepted too); an unknown name is refused with the valid ones.
    """
    clauses = [part for part in text.split(",")]
    if not text.strip() or any(not part.strip() for part in clauses):
        raise ValueError(f"--rule takes conditions like 'backtracking>0,verification>=2', got {text!r}")
    conditions = []
    for part in clauses:
        match = _CLAUSE.match(part)
        if match is None:
            raise ValueError(f"--rule: cannot read {part.strip()!r}; write BEHAVIOR OP N with OP one of "
                             f"{', '.join(o for o in _OPS if o != '=')} (e.g. verification>=2)")
        name = match.group(1).removesuffix("_count")
        if name not in BEHAVIORS:
            raise ValueError(f"--rule: unknown behavior {match.group(1)!r}; valid names: {', '.join(BEHAVIORS)}")
        conditions.append((name, match.group(2), int(match.group(3))))
    return Rule(tuple(conditions))


@dataclass
class SetReport:
    """How one set was filled: documents and tokens taken, the budget, and how many were eligible."""

    budget: int
    pool: int = 0
    documents: int = 0
    tokens: int = 0
    skipped: int = 0  # documents passed over because they would overshoot the budget
    pool_tokens: int | None = None  # known only when the whole pool was tokenized (filling never stopped early)

    @property
    def exhausted(self) -> bool:
        """The eligible documents hold fewer tokens than the budget: the set is the whole pool."""
        return self.pool_tokens is not None and self.pool_tokens < self.budget

    @property
    def deviation(self) -> float:
        """(tokens - budget) / budget: how far the set is from its budget (never above it)."""
        return (self.tokens - self.budget) / self.budget

    def to_json(self) -> dict[str, Any]:
        return {"budget": self.budget, "tokens": self.tokens, "documents": self.documents, "pool": self.pool,
                "skipped_over_budget": self.skipped, "pool_tokens": self.pool_tokens,
                "pool_smaller_than_budget": self.exhausted,
                "deviation": round(self.deviation, 6)}

    def line(self, name: str) -> str:
        """'rich: 1,204 documents, 8,299,120 / 8,300,000 tokens (-0.01%)' plus a warning when the pool ran out."""
        text = (f"{name}: {self.documents:,} documents, {self.tokens:,} / {self.budget:,} tokens "
                f"({self.deviation:+.2%})")
        if self.exhausted:
            text += (f"; the pool ({self.pool:,} eligible documents, {self.pool_tokens:,} tokens) is smaller "
                     "than the budget")
        elif self.deviation < -0.01:
            text += "; no remaining document fits the gap (documents are long for this budget)"
        return text


@dataclass
class Selection:
    """The two sets (rows in seeded order) and what was excluded on the way."""

    rich: list[dict[str, Any]]
    minimal: list[dict[str, Any]]
    reports: dict[str, SetReport]
    rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    rule: str = ANY_BEHAVIOR
    seed: int = 0

    def summary(self) -> str:
        """The lines printed on stderr: rows read, exclusions, then one line per set."""
        excluded = ", ".join(f"{n:,} {why}" for why, n in self.excluded.items() if n) or "none"
        lines = [f"{self.rows:,} labelled rows read; excluded: {excluded}; rich rule: {self.rule}"]
        lines += [self.reports[name].line(name) for name in SETS]
        return "\n".join(lines)


def counts_of(row: dict[str, Any]) -> dict[str, int]:
    """Behavior -> count from a labelled row's `<behavior>_count` columns; ValueError when one is missing."""
    try:
        return {b: int(row[COUNT_FIELDS[b]]) for b in BEHAVIORS}
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"row {row.get('id')!r} needs integer columns {', '.join(COUNT_FIELDS.values())} "
                         "(labelled rows from `cogbeh-gen curate classify`)") from None


def order_key(seed: int, doc_id: object) -> tuple[str, str]:
    """Seeded position of a document: a hash of seed and id (ties, if any, broken by the id itself)."""
    return hashlib.sha256(f"{seed}\0{doc_id}".encode()).hexdigest(), str(doc_id)


def select(rows: Iterable[dict[str, Any]], *, tokens: int, tokenizer: Any, seed: int = 0,
           rule: str | Rule | None = None) -> Selection:
    """Split labelled rows into rich and minimal pools, then fill each to `tokens` (counted with `tokenizer`,
    a cogbeh.tokenizer.LoadedTokenizer or anything with `counts(texts) -> list[int]`).

    Rows keep their columns and gain `selection` (rich/minimal) and `tokens`. Duplicate ids are refused:
    which copy to keep would depend on file order.
    """
    if tokens < 1:
        raise ValueError("the token budget must be positive")
    parsed = parse_rule(rule) if isinstance(rule, str) else rule
    pools: dict[str, list[dict[str, Any]]] = {name: [] for name in SETS}
    excluded = {"label errors": 0, "without problem or solution": 0, "rich but outside the rule": 0}
    seen: set[str] = set()
    total = 0
    for row in rows:
        total += 1
        doc_id = str(row.get("id"))
        if "id" not in row or not isinstance(row.get("text"), str):
            raise ValueError(f"row {total} needs an 'id' and a 'text' string (labelled rows from curate classify)")
        if doc_id in seen:
            raise ValueError(f"duplicate id {doc_id!r}: each document must appear once")
        seen.add(doc_id)
        if row.get("label_error"):
            excluded["label errors"] += 1
            continue
        counts = counts_of(row)
        if row.get("contains_problem") is not True or row.get("contains_solution") is not True:
            excluded["without problem or solution"] += 1
            continue
        if not any(counts.values()):
            pools["minimal"].append(row)
        elif parsed is None or parsed.matches(counts):
            pools["rich"].append(row)
        else:
            excluded["rich but outside the rule"] += 1
    reports = {name: SetReport(budget=tokens, pool=len(pools[name])) for name in SETS}
    chosen = {name: _fill(sorted(pools[name], key=lambda r: order_key(seed, r["id"])), tokens, tokenizer,
                          reports[name], name) for name in SETS}
    return Selection(rich=chosen["rich"], minimal=chosen["minimal"], reports=reports, rows=total,
                     excluded=excluded, rule=str(parsed) if parsed else ANY_BEHAVIOR, seed=seed)


def _fill(ordered: Sequence[dict[str, Any]], budget: int, tokenizer: Any, report: SetReport,
          name: str) -> list[dict[str, Any]]:
    """Greedy fill in order, then swaps that close the gap; tokenizes lazily, in batches, so a large pool is
    not tokenized past the budget."""
    taken: list[tuple[int, int]] = []  # (position in order, tokens)
    passed: list[tuple[int, int]] = []  # scanned documents that did not fit
    scanned = 0
    for start in range(0, len(ordered), _BATCH):
        batch = ordered[start:start + _BATCH]
        for offset, size in enumerate(tokenizer.counts([r["text"] for r in batch])):
            scanned += size
            if report.tokens + size > budget:
                passed.append((start + offset, size))
                continue
            report.tokens += size
            taken.append((start + offset, size))
            if report.tokens >= budget * FULL:
                return _rows(ordered, taken, passed, report, name)
    report.pool_tokens = scanned
    if not _exact_fill(taken, passed, budget, report):
        _close_gap(taken, passed, budget, report)
    return _rows(ordered, taken, passed, report, name)


#: Largest (documents x budget) solved exactly (a bitset per document: 2e8 bits is 25 MB).
EXACT_LIMIT = 200_000_000


def _exact_fill(taken: list[tuple[int, int]], passed: list[tuple[int, int]], budget: int,
                report: SetReport) -> bool:
    """The largest total within budget over a pool the greedy pass exhausted (subset sum on a bitset).

    Only for pools small enough to solve exactly; among equal totals it prefers documents earlier in seeded
    order. Returns False (nothing changed) when the pool is too large: then swaps close the gap instead.
    """
    items = sorted(taken + passed)
    if report.tokens >= budget * FULL or len(items) * (budget + 1) > EXACT_LIMIT:
        return False
    mask = (1 << (budget + 1)) - 1
    reach = [1]  # reach[i]: bit t set when some subset of the first i documents has t tokens
    for _, size in items:
        reach.append((reach[-1] | (reach[-1] << size)) & mask)
    total = reach[-1].bit_length() - 1
    if total <= report.tokens:
        return True
    chosen, remaining = [], total
    for index in range(len(items), 0, -1):  # from the last document: drop it whenever the rest can do without
        if (reach[index - 1] >> remaining) & 1:
            continue
        chosen.append(items[index - 1])
        remaining -= items[index - 1][1]
    kept = set(chosen)
    taken[:] = sorted(chosen)
    passed[:] = [item for item in items if item not in kept]
    report.tokens = total
    return True


def _close_gap(taken: list[tuple[int, int]], passed: list[tuple[int, int]], budget: int, report: SetReport) -> None:
    """Swap a taken document for a longer one that was passed over, as long as the set stays within budget.

    A greedy fill of a small pool of long documents can stop several percent short (the next document in order
    does not fit). Each swap takes the pair that closes most of the gap (ties: earliest in seeded order), so the
    result is still deterministic and the set still never exceeds the budget.
    """
    for _ in range(64):
        gap = budget - report.tokens
        if gap <= budget * (1 - FULL) or not taken or not passed:
            return
        by_size = sorted(passed, key=lambda item: (item[1], item[0]))
        sizes = [size for _, size in by_size]
        best: tuple[int, int, int] | None = None  # (gain, taken index, passed index in by_size)
        for t_index, (position, size) in enumerate(taken):
            fit = bisect.bisect_right(sizes, size + gap) - 1  # longest passed document that still fits
            if fit < 0 or sizes[fit] <= size:
                continue
            gain = sizes[fit] - size
            if best is None or gain > best[0] or (gain == best[0] and position < taken[best[1]][0]):
                best = (gain, t_index, fit)
        if best is None:
            return
        gain, t_index, fit = best
        incoming = by_size[fit]
        outgoing = taken[t_index]
        taken[t_index] = incoming
        passed.remove(incoming)
        passed.append(outgoing)
        report.tokens += gain


def _rows(ordered: Sequence[dict[str, Any]], taken: list[tuple[int, int]], passed: list[tuple[int, int]],
          report: SetReport, name: str) -> list[dict[str, Any]]:
    report.documents = len(taken)
    report.skipped = len(passed)
    return [{**ordered[position], "selection": name, "tokens": size} for position, size in sorted(taken)]
