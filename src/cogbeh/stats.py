"""Summary statistics over records: correctness, behavior counts, lengths and variety."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from cogbeh.behaviors import BEHAVIORS
from cogbeh.records import Record


def _percentile(values: Sequence[int], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[position])


def distinct_ngram_ratio(texts: Sequence[str], n: int = 4) -> float:
    """Distinct word n-grams over all n-grams: 1.0 means no phrase of n words ever repeats."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        words = text.split()
        for i in range(len(words) - n + 1):
            seen.add(tuple(words[i : i + n]))
            total += 1
    return len(seen) / total if total else 0.0


#: Variety is measured over this many traces (the first ones), so figures compare across run sizes.
NGRAM_SAMPLE = 1000


def length_stats(texts: Sequence[str]) -> dict[str, dict[str, float]]:
    """Median and p95 length of `texts` in characters and in whitespace-separated words ('tokens')."""
    chars = [len(t) for t in texts]
    tokens = [len(t.split()) for t in texts]
    return {
        "length_chars": {
            "median": float(statistics.median(chars)) if chars else 0.0,
            "p95": _percentile(chars, 0.95),
        },
        "length_tokens": {
            "median": float(statistics.median(tokens)) if tokens else 0.0,
            "p95": _percentile(tokens, 0.95),
        },
    }


def summarise(records: Sequence[Record]) -> dict[str, Any]:
    """Counts, correct rate, mean behavior counts and presence rates, length median/p95, 4-gram variety."""
    n = len(records) or 1
    return {
        "records": len(records),
        "correct_rate": sum(r.correct for r in records) / n,
        "mean_behavior_counts": {b: sum(r.behavior_counts.get(b, 0) for r in records) / n for b in BEHAVIORS},
        "behavior_presence": {b: sum(r.behavior_counts.get(b, 0) > 0 for r in records) / n for b in BEHAVIORS},
        **length_stats([r.completion for r in records]),
        "distinct_4gram_ratio": distinct_ngram_ratio([r.completion for r in records[:NGRAM_SAMPLE]]),
        "distinct_4gram_sample": min(len(records), NGRAM_SAMPLE),
    }
