"""Acceptance figures for the symbolic engine: per paper condition, 1000 records, checked independently of
the pipeline's own acceptance (arithmetic re-parsed, answers re-checked, behaviors re-counted).

    python benchmarks/traces.py [-n 1000] [--incorrect]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cogbeh.behaviors import BEHAVIORS, PAPER_CONDITIONS, parse_condition
from cogbeh.classify import count_behaviors
from cogbeh.countdown import check
from cogbeh.pipeline import JobConfig, run
from cogbeh.stats import summarise
from cogbeh.validate import false_statements, think_block


def measure(condition: str, n: int, incorrect: bool, folder: Path) -> dict[str, object]:
    """Generate `n` records for `condition` and measure them."""
    began = time.perf_counter()
    result = run(JobConfig(behaviors=parse_condition(condition), n=n, out=folder, incorrect=incorrect))
    seconds = time.perf_counter() - began
    records = result.records
    wanted = parse_condition(condition)
    true_arithmetic = sum(false_statements(think_block(r.completion) or "") == [] for r in records)
    answers_ok = sum(check(r.answer or "", r.nums, r.target) == r.correct for r in records)
    present = {b: 0 for b in wanted}
    stray = {b: 0 for b in BEHAVIORS if b not in wanted}
    for record in records:
        counts = count_behaviors(think_block(record.completion) or record.completion)
        for behavior in present:
            present[behavior] += counts[behavior] > 0
        for behavior in stray:
            stray[behavior] += counts[behavior] > 0
    stats = summarise(records)
    return {
        "condition": condition,
        "records": len(records),
        "rejected": result.manifest["counts"]["rejected"],
        "true_arithmetic_%": 100 * true_arithmetic / len(records),
        "label_matches_check_%": 100 * answers_ok / len(records),
        "correct_%": 100 * stats["correct_rate"],
        "requested_present_min_%": min((100 * v / len(records) for v in present.values()), default=100.0),
        "excluded_present_max_%": max((100 * v / len(records) for v in stray.values()), default=0.0),
        "chars_median": stats["length_chars"]["median"],
        "chars_p95": stats["length_chars"]["p95"],
        "words_median": stats["length_tokens"]["median"],
        "words_p95": stats["length_tokens"]["p95"],
        "distinct_4gram": f"{stats['distinct_4gram_ratio']:.3f}",
        "seconds": round(seconds, 2),
    }


def main() -> None:
    """Print one row per paper condition."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--incorrect", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for condition in PAPER_CONDITIONS:
            rows.append(measure(condition, args.n, args.incorrect, Path(tmp) / condition.replace("+", "_")))
    columns = list(rows[0])
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]) for c in columns))


if __name__ == "__main__":
    main()
