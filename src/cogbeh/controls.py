"""Derived controls: pure functions from a condition's records to control records on the same problems."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cogbeh.records import Record

_THINK = re.compile(r"\A(\s*<think>)(.*?)(</think>.*)\Z", re.DOTALL)
#: A step ends at a sentence end followed by whitespace and a capital, digit or bracket ('... = 32. ✓' stays whole).
_STEP_END = re.compile(r"(?<=[.!?✓])(\s+)(?=[A-Z0-9(])")



class ControlError(ValueError):
    """An unknown control, a control missing an option it needs, or records a control cannot be applied to."""


#: Token counts are only meaningful under the model that will read the text, so there is no silent default.
MISSING_TOKENIZER = (
    "length_matched needs a tokenizer to count with: pass --tokenizer PATH|HUB_ID (the target model's "
    "tokenizer.json, model folder or Hub id), or --tokenizer test for the small test tokenizer shipped with "
    "cogbeh-gen"
)


@dataclass(frozen=True)
class Options:
    """What a control may need beyond the records."""

    tokenizer: str | None = None
    seed: int = 0


def split_think(record: Record) -> tuple[str, str, str]:
    """(head through '<think>', think content, rest from '</think>'), or ControlError naming the record."""
    match = _THINK.match(record.completion)
    if match is None:
        raise ControlError(f"record {record.id}: completion has no <think>...</think> block")
    return match.group(1), match.group(2), match.group(3)


def derive(record: Record, control: str, completion: str | None = None) -> Record:
    """`record` as a row of `control`: id suffixed, control set, behavior counts re-measured on the new text."""
    from cogbeh.classify import count_behaviors  # the same judge the pipeline accepts records with
    from cogbeh.validate import think_block

    if record.control is not None:
        raise ControlError(
            f"record {record.id} is already a {record.control!r} control; derive from a condition"
        )
    text = record.completion if completion is None else completion
    think = think_block(text)
    # Same text, same counts: filters need not pay for the classifier again.
    unchanged = text == record.completion
    counts = record.behavior_counts if unchanged else count_behaviors(text if think is None else think)
    return record.model_copy(
        update={
            "id": f"{record.id}-{control}",
            "control": control,
            "completion": text,
            "behavior_counts": counts,
        }
    )


def empty_cot(record: Record) -> Record:
    """The think block emptied: '<think>\\n</think>\\n<answer>...</answer>'."""
    head, _, rest = split_think(record)
    return derive(record, "empty_cot", f"{head}\n{rest}")


def length_matched(record: Record, *, tokens: int, placeholder: str) -> Record:
    """The think content replaced by `placeholder` repeated `tokens` times (the content's token count)."""
    head, _, rest = split_think(record)
    return derive(record, "length_matched", f"{head}\n{placeholder * tokens}\n{rest}")


def think_steps(think: str) -> tuple[list[str], list[str]]:
    """The think content as steps (sentences) and the whitespace between them (one fewer)."""
    parts = _STEP_END.split(think.strip())
    return parts[0::2], parts[1::2]


def _permutation(steps: list[str], rng: random.Random) -> list[int]:
    """A seeded order of `steps` that changes their sequence whenever two of them differ."""
    order = list(range(len(steps)))
    rng.shuffle(order)
    if [steps[i] for i in order] == steps:
        # Rotating a sequence by one leaves it unchanged only if all its items are equal.
        order = order[1:] + order[:1]
    return order


def _shuffle_steps(text: str, rng: random.Random, *, keep: int = 0) -> str:
    """`text` with its steps permuted, whitespace layout kept; the first and last `keep` steps stay put."""
    steps, gaps = think_steps(text)
    if len(steps) <= 2 * keep:
        return text
    inner = steps[keep : len(steps) - keep]
    moved = steps[:keep] + [inner[i] for i in _permutation(inner, rng)] + steps[len(steps) - keep :]
    core = moved[0] + "".join(gap + step for gap, step in zip(gaps, moved[1:], strict=True))
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return lead + core + trail


def shuffled_steps(record: Record, *, seed: int = 0) -> Record:
    """The steps between the problem statement (first line) and conclusion (last line), seeded-permuted."""
    head, think, rest = split_think(record)
    lines = think.strip().split("\n")
    rng = random.Random(f"{seed}:shuffled_steps:{record.id}")
    if len(lines) >= 3:
        middle = _shuffle_steps("\n".join(lines[1:-1]), rng)
        body = "\n".join([lines[0], middle, lines[-1]])
    else:
        # No line layout to anchor on: the first and last sentences stand in for statement and conclusion.
        body = _shuffle_steps(think.strip(), rng, keep=1)
    return derive(record, "shuffled_steps", f"{head}\n{body}\n{rest}")


def _moves_and_returns(record: Record) -> list[dict[str, Any]]:
    """The moves of a trace in order, each with the table it leaves and the table it restarts from after a return."""
    from cogbeh.audit.parse import read

    said = read(split_think(record)[1], layout=record.provider == "symbolic")
    items: list[dict[str, Any]] = []
    restart = None
    for position, claim in enumerate(said):
        if claim.kind == "return":
            restart = claim.values
        elif claim.kind == "move":
            left, op, right, result = claim.equation  # type: ignore[misc]
            following = said[position + 1] if position + 1 < len(said) else None
            remaining = following.values if following is not None and following.kind == "state" else None
            items.append({"left": left, "op": op, "right": right, "result": result, "remaining": remaining,
                          "restart": restart})
            restart = None
    return items


def cue_stripped(record: Record) -> Record:
    """Every move and every return to an earlier table kept in order; every behavior statement (checks, plans,
    abandonment, backward steps) removed. Rendered from templates/controls/cue_stripped.jinja."""
    from cogbeh.templating import render

    head, _, rest = split_think(record)
    body = render("controls/cue_stripped.jinja", nums=record.nums, target=record.target,
                  items=_moves_and_returns(record), answer=record.answer)
    think = body.strip().removeprefix("<think>").removesuffix("</think>").strip()
    return derive(record, "cue_stripped", f"{head}\n{think}\n{rest}")


def _apply_empty(records: list[Record], options: Options) -> tuple[list[Record], dict[str, Any]]:
    return [empty_cot(r) for r in records], {}


def _apply_length(records: list[Record], options: Options) -> tuple[list[Record], dict[str, Any]]:
    from cogbeh.tokenizer import choose_placeholder, load_tokenizer

    if options.tokenizer is None:
        raise ControlError(MISSING_TOKENIZER)
    loaded = load_tokenizer(options.tokenizer)
    placeholder = choose_placeholder(loaded)
    wanted = loaded.counts([split_think(r)[1].strip() for r in records])
    derived = [
        length_matched(r, tokens=n, placeholder=placeholder) for r, n in zip(records, wanted, strict=True)
    ]
    # Verified by re-tokenising what was written, not by trusting the arithmetic of the repetition.
    got = loaded.counts([split_think(d)[1].strip() for d in derived])
    matched = sum(a == b for a, b in zip(wanted, got, strict=True))
    stats = {
        "tokenizer": loaded.source,
        "test_tokenizer": loaded.is_test,
        "placeholder": placeholder,
        "match_rate": matched / len(records) if records else 1.0,
        "mean_think_tokens": sum(wanted) / (len(records) or 1),
    }
    return derived, stats


def _apply_incorrect(records: list[Record], options: Options) -> tuple[list[Record], dict[str, Any]]:
    kept = [derive(r, "incorrect_only") for r in records if not r.correct]
    return kept, {"kept": len(kept), "dropped_correct": len(records) - len(kept)}


def _apply_shuffled(records: list[Record], options: Options) -> tuple[list[Record], dict[str, Any]]:
    derived = [shuffled_steps(r, seed=options.seed) for r in records]
    changed = sum(d.completion != r.completion for r, d in zip(records, derived, strict=True))
    return derived, {"reordered_rate": changed / len(records) if records else 0.0}


def _apply_cues(records: list[Record], options: Options) -> tuple[list[Record], dict[str, Any]]:
    derived = [cue_stripped(r) for r in records]
    silent = sum(not any(d.behavior_counts.values()) for d in derived)
    return derived, {"no_behavior_rate": silent / len(derived) if derived else 1.0}


@dataclass(frozen=True)
class Control:
    """A registered control: how to apply it and one line for cards and help."""

    apply: Callable[[list[Record], Options], tuple[list[Record], dict[str, Any]]]
    description: str


CONTROLS: dict[str, Control] = {
    "empty_cot": Control(_apply_empty, "the think block emptied; the answer kept"),
    "length_matched": Control(
        _apply_length,
        "the think block replaced by a placeholder repeated to its token count under a tokenizer",
    ),
    "incorrect_only": Control(_apply_incorrect, "only records whose final answer is wrong"),
    "shuffled_steps": Control(
        _apply_shuffled,
        "the think steps (sentences) in a seeded random order; problem statement and conclusion stay put",
    ),
    "cue_stripped": Control(
        _apply_cues, "every behavior statement removed; the moves and returns to earlier tables kept in order"
    ),
}
ALIASES: dict[str, str] = {"dots": "length_matched", "no_positive": "incorrect_only"}


def canonical_control(name: str) -> str:
    """The registry name for `name` or an alias; ControlError listing the valid names."""
    resolved = ALIASES.get(name.strip(), name.strip())
    if resolved not in CONTROLS:
        valid = ", ".join([*CONTROLS, *ALIASES])
        raise ControlError(f"unknown control {name!r}; valid: {valid}")
    return resolved


def check_control(name: str, *, tokenizer: str | None = None) -> str:
    """The canonical name once its options are complete and its tokenizer loads (checked before any run)."""
    from cogbeh.tokenizer import TokenizerError, choose_placeholder, load_tokenizer

    control = canonical_control(name)
    if control == "length_matched":
        if tokenizer is None:
            raise ControlError(MISSING_TOKENIZER)
        try:
            choose_placeholder(load_tokenizer(tokenizer))
        except TokenizerError as err:
            raise ControlError(f"tokenizer {err}") from None
    return control


def tokenizer_line(stats: dict[str, Any]) -> str | None:
    """One line naming the tokenizer a length_matched control counted with, for summaries; None for others."""
    if "tokenizer" not in stats:
        return None
    caveat = (
        " (the small test tokenizer shipped with cogbeh-gen: counts only approximate a real model's)"
        if stats.get("test_tokenizer")
        else ""
    )
    return (
        f"length_matched: tokens counted with tokenizer {stats['tokenizer']!r}{caveat}; "
        f"placeholder {stats['placeholder']!r}, counts matched for {100 * stats['match_rate']:.1f}% of rows"
    )


def apply_control(
    name: str, records: list[Record], *, tokenizer: str | None = None, seed: int = 0
) -> tuple[list[Record], dict[str, Any]]:
    """Apply control `name` (or an alias) to a condition's records; returns the control records and stats."""
    control = canonical_control(name)
    derived, stats = CONTROLS[control].apply(list(records), Options(tokenizer=tokenizer, seed=seed))
    return derived, {"control": control, "source_records": len(records), "records": len(derived), **stats}
